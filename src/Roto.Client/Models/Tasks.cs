namespace Roto.Client;

/// <summary>Values of <c>edit_mode</c>.</summary>
public static class EditModes
{
    /// <summary>Add an element from reference images.</summary>
    public const string Addition = "addition";

    /// <summary>Replace the selected element with one from an image.</summary>
    public const string Swap = "swap";

    /// <summary>Remove the selected element.</summary>
    public const string Removal = "removal";
}

/// <summary>Values of <c>task_status</c>.</summary>
public static class TaskStatuses
{
    /// <summary>Accepted, not started.</summary>
    public const string Submitted = "submitted";

    /// <summary>Running.</summary>
    public const string Processing = "processing";

    /// <summary>Finished with a result (note: not "succeeded").</summary>
    public const string Succeed = "succeed";

    /// <summary>Finished without a result; see <c>task_status_msg</c>.</summary>
    public const string Failed = "failed";
}

/// <summary>Body of <c>POST /v1/videos/multi-elements</c>.</summary>
public sealed record CreateTaskRequest
{
    /// <summary>Model; the server's default (kling-v1-6) when null.</summary>
    public string? ModelName { get; init; }

    /// <summary>The session with the selection.</summary>
    public required string SessionId { get; init; }

    /// <summary>One of <see cref="EditModes"/>.</summary>
    public required string EditMode { get; init; }

    /// <summary>Reference images: 1–2 for addition, exactly 1 for swap, none for removal. HTTPS URL, upload URL or raw base64.</summary>
    public IReadOnlyList<TaskImage>? ImageList { get; init; }

    /// <summary>What to do, referring to inputs as &lt;&lt;&lt;video_1&gt;&gt;&gt; and &lt;&lt;&lt;image_1&gt;&gt;&gt; (≤ 2,500 characters).</summary>
    public required string Prompt { get; init; }

    /// <summary>What to avoid (≤ 2,500 characters).</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>"std" or "pro".</summary>
    public string? Mode { get; init; }

    /// <summary>"5" or "10" seconds.</summary>
    public string? Duration { get; init; }

    /// <summary>Whether to also produce a watermarked copy.</summary>
    public WatermarkInfo? WatermarkInfo { get; init; }

    /// <summary>URL POSTed the task object on every status change.</summary>
    public string? CallbackUrl { get; init; }

    /// <summary>The caller's own id, unique per account; <see cref="RotoClient.GetTaskAsync"/> accepts it too.</summary>
    public string? ExternalTaskId { get; init; }

    /// <summary>Roto extension for addition: where the added element goes.</summary>
    public Placement? Placement { get; init; }
}

/// <summary>One reference image.</summary>
/// <param name="Image">HTTPS URL, upload URL, or raw base64 without a data: prefix.</param>
public sealed record TaskImage(string Image);

/// <summary>Watermark switch.</summary>
/// <param name="Enabled">True to also produce a watermarked copy.</param>
public sealed record WatermarkInfo(bool Enabled);

/// <summary>Roto extension: position and size of an added element, as fractions of the frame.</summary>
/// <param name="X">Horizontal centre, 0 = left edge.</param>
/// <param name="Y">Vertical centre, 0 = top edge.</param>
/// <param name="Scale">Height of the element as a fraction of the frame height.</param>
public sealed record Placement(double X, double Y, double Scale);

/// <summary>A task object as returned by create, query, list and callbacks.</summary>
public sealed class EditTask
{
    /// <summary>The task id (a decimal string).</summary>
    public string TaskId { get; init; } = "";

    /// <summary>One of <see cref="TaskStatuses"/>.</summary>
    public string TaskStatus { get; init; } = "";

    /// <summary>Why it failed; empty otherwise.</summary>
    public string? TaskStatusMsg { get; init; }

    /// <summary>Echo of the caller's fields.</summary>
    public EditTaskInfo? TaskInfo { get; init; }

    /// <summary>The result once succeeded.</summary>
    public EditTaskResult? TaskResult { get; init; }

    /// <summary>Echo of the watermark switch.</summary>
    public WatermarkInfo? WatermarkInfo { get; init; }

    /// <summary>Units charged, as a decimal string.</summary>
    public string? FinalUnitDeduction { get; init; }

    /// <summary>Roto extension: 0–100.</summary>
    public int? TaskProgress { get; init; }

    /// <summary>Unix milliseconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>Unix milliseconds; changes on each transition.</summary>
    public long UpdatedAt { get; init; }

    /// <summary>True once the task has succeeded or failed.</summary>
    public bool IsFinished => TaskStatus is TaskStatuses.Succeed or TaskStatuses.Failed;

    /// <summary>URL of the first result video, or null.</summary>
    public string? ResultUrl => TaskResult?.Videos.FirstOrDefault()?.Url;
}

/// <summary><c>task_info</c> of a task.</summary>
public sealed class EditTaskInfo
{
    /// <summary>The caller's own id, if given.</summary>
    public string? ExternalTaskId { get; init; }
}

/// <summary><c>task_result</c> of a task.</summary>
public sealed class EditTaskResult
{
    /// <summary>The edited video(s).</summary>
    public IReadOnlyList<ResultVideo> Videos { get; init; } = [];
}

/// <summary>One edited video.</summary>
public sealed class ResultVideo
{
    /// <summary>Id of the generated video.</summary>
    public string? Id { get; init; }

    /// <summary>The editing session.</summary>
    public string? SessionId { get; init; }

    /// <summary>Download URL (signed and expiring on Roto).</summary>
    public string Url { get; init; } = "";

    /// <summary>Watermarked copy, if requested.</summary>
    public string? WatermarkUrl { get; init; }

    /// <summary>Seconds, as a string (may be fractional).</summary>
    public string? Duration { get; init; }
}
