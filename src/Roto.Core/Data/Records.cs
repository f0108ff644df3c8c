using System.ComponentModel.DataAnnotations;

namespace Roto.Core.Data;

/// <summary>An editing session on one normalized video.</summary>
public sealed class SessionRecord
{
    [Key, MaxLength(24)] public string Id { get; set; } = "";
    [MaxLength(80)] public string AccountId { get; set; } = "";
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    public long ExpiresAt { get; set; }
    /// <summary>Storage key of the normalized video.</summary>
    [MaxLength(200)] public string VideoKey { get; set; } = "";
    public int FpsNum { get; set; }
    public int FpsDen { get; set; }
    public long OriginalDurationMs { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public int TotalFrames { get; set; }
    public bool HasAudio { get; set; }
    /// <summary>
    /// Bumped on every change of the selection, so previews and tracks know when they are stale. Also the session's
    /// concurrency token: two processes changing one selection at once cannot both save, the loser retries.
    /// </summary>
    [ConcurrencyCheck] public int SelectionVersion { get; set; }
    /// <summary>The selection version the stored preview was made from; -1 when there is none.</summary>
    public int PreviewVersion { get; set; } = -1;
    [MaxLength(200)] public string? PreviewVideoKey { get; set; }
    [MaxLength(200)] public string? PreviewCoverKey { get; set; }
    [MaxLength(200)] public string? TrackingKey { get; set; }
}

/// <summary>One click on one frame for one element.</summary>
public sealed class PointRecord
{
    public long Id { get; set; }
    [MaxLength(24)] public string SessionId { get; set; } = "";
    public int FrameIndex { get; set; }
    public int ObjectId { get; set; }
    public double X { get; set; }
    public double Y { get; set; }
    /// <summary>1 include, 0 exclude.</summary>
    public int Label { get; set; } = 1;
    public long CreatedAt { get; set; }
}

/// <summary>The segmenter's mask of one element on one marked frame, kept so previews and tasks need not recompute it.</summary>
public sealed class FrameMaskRecord
{
    public long Id { get; set; }
    [MaxLength(24)] public string SessionId { get; set; } = "";
    public int FrameIndex { get; set; }
    public int ObjectId { get; set; }
    /// <summary>COCO compressed RLE counts over [Height, Width] of the session.</summary>
    public string Counts { get; set; } = "";
    /// <summary>
    /// The preview's tracked mask of this element on this frame when the frame was first clicked, as COCO RLE counts;
    /// null when the frame had none. The clicks correct it rather than start over, and a delete replays them on it.
    /// </summary>
    public string? PriorCounts { get; set; }
}

public static class TaskStatuses
{
    public const string Submitted = "submitted";
    public const string Processing = "processing";
    public const string Succeed = "succeed";
    public const string Failed = "failed";
}

/// <summary>An edit task and, once done, its result.</summary>
public sealed class TaskRecord
{
    [Key, MaxLength(24)] public string Id { get; set; } = "";
    [MaxLength(80)] public string AccountId { get; set; } = "";
    [MaxLength(24)] public string SessionId { get; set; } = "";
    [MaxLength(200)] public string? ExternalTaskId { get; set; }
    [MaxLength(16)] public string Status { get; set; } = TaskStatuses.Submitted;
    public string StatusMessage { get; set; } = "";
    public int Progress { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    /// <summary>The request as accepted (JSON of <see cref="Tasks.EditRequest"/>).</summary>
    public string RequestJson { get; set; } = "";
    /// <summary>The selection when the task was created (JSON keyframe masks), so later clicks do not change it.</summary>
    public string SelectionJson { get; set; } = "";
    public int SelectionVersion { get; set; }
    public bool WatermarkEnabled { get; set; }
    [MaxLength(2000)] public string? CallbackUrl { get; set; }
    /// <summary>Scheme and host the task was created through: its URLs are built on it unless Roto:PublicBaseUrl is set.</summary>
    [MaxLength(300)] public string BaseUrl { get; set; } = "";
    public int Attempts { get; set; }
    /// <summary>The process running the task (see <see cref="Cluster.Instance"/>); only it may write the outcome.</summary>
    [MaxLength(100)] public string? LeaseOwner { get; set; }
    /// <summary>Unix ms until which the owner's claim holds; its heartbeat pushes it on, a dead owner lets it lapse.</summary>
    public long LeaseExpiresAt { get; set; }
    [MaxLength(24)] public string? ResultVideoId { get; set; }
    [MaxLength(200)] public string? ResultKey { get; set; }
    [MaxLength(200)] public string? WatermarkKey { get; set; }
    [MaxLength(32)] public string? ResultDuration { get; set; }
    public long? FinishedAt { get; set; }
}

/// <summary>A file in storage and who owns it; the sweeper deletes files nobody owns.</summary>
public sealed class StoredFileRecord
{
    [Key, MaxLength(200)] public string Key { get; set; } = "";
    [MaxLength(80)] public string AccountId { get; set; } = "";
    /// <summary>upload, normalized, preview, result, image.</summary>
    [MaxLength(16)] public string Kind { get; set; } = "";
    /// <summary>The upload, session or task id the file belongs to.</summary>
    [MaxLength(24)] public string OwnerId { get; set; } = "";
    [MaxLength(100)] public string ContentType { get; set; } = "application/octet-stream";
    public long Size { get; set; }
    public long CreatedAt { get; set; }
    public long ExpiresAt { get; set; }
}

/// <summary>A callback waiting to be delivered (or given up on).</summary>
public sealed class CallbackRecord
{
    public long Id { get; set; }
    [MaxLength(24)] public string TaskId { get; set; } = "";
    [MaxLength(40)] public string WebhookId { get; set; } = "";
    [MaxLength(2000)] public string Url { get; set; } = "";
    public string Payload { get; set; } = "";
    public int Attempts { get; set; }
    public long FirstAttemptAt { get; set; }
    public long NextAttemptAt { get; set; }
    /// <summary>pending, delivered, abandoned.</summary>
    [MaxLength(16)] public string State { get; set; } = "pending";
    public string? LastError { get; set; }
    /// <summary>The process making the current delivery attempt, so no two processes send the same attempt.</summary>
    [MaxLength(100)] public string? LeaseOwner { get; set; }
    public long LeaseExpiresAt { get; set; }
}

/// <summary>A named job that one process at a time may do (the sweeper), held until <see cref="ExpiresAt"/>.</summary>
public sealed class LeaseRecord
{
    [Key, MaxLength(40)] public string Name { get; set; } = "";
    [MaxLength(100)] public string Owner { get; set; } = "";
    public long ExpiresAt { get; set; }
}
