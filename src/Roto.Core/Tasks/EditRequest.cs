namespace Roto.Core.Tasks;

public static class EditModes
{
    public const string Addition = "addition";
    public const string Swap = "swap";
    public const string Removal = "removal";
    public static readonly string[] All = [Addition, Swap, Removal];
}

/// <summary>A create-task request after the wire checks: every field already valid on its own.</summary>
public sealed record EditRequest
{
    public string ModelName { get; init; } = "kling-v1-6";
    public required string SessionId { get; init; }
    public required string EditMode { get; init; }
    /// <summary>As given: URLs or base64. Replaced by storage keys once loaded.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];
    public required string Prompt { get; init; }
    public string? NegativePrompt { get; init; }
    public string Mode { get; init; } = "std";
    /// <summary>"5" or "10"; null when the client did not say (then the video's own length decides).</summary>
    public string? Duration { get; init; }
    public double? CfgScale { get; init; }
    public string? AspectRatio { get; init; }
    public string? CameraControlJson { get; init; }
    public bool Watermark { get; init; }
    public string? CallbackUrl { get; init; }
    public string? ExternalTaskId { get; init; }
    public PlacementInput? Placement { get; init; }
}

/// <summary>The <c>placement</c> extension: centre as fractions of the frame, scale as a fraction of its height.</summary>
public sealed record PlacementInput(double X, double Y, double Scale);

/// <summary>The selection a task was created with: each element's mask on each marked frame.</summary>
public sealed record SelectionSnapshot(IReadOnlyList<SnapshotMask> Masks);

public sealed record SnapshotMask(int FrameIndex, int ObjectId, string Counts);
