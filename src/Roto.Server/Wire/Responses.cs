using System.ComponentModel;

namespace Roto.Server.Wire;

// The data objects of the wire (spec §2), serialized with snake_case names.

public sealed record InitSelectionData(
    int Status, string SessionId, string FinalUnitDeduction, double Fps, long OriginalDuration, int Width, int Height,
    int TotalFrame, string NormalizedVideo, string TaskId, string TaskStatus, long CreatedAt, long UpdatedAt);

public sealed record SelectionData(
    int Status, string SessionId, string FinalUnitDeduction, SelectionRes? Res, string TaskId, string TaskStatus, long CreatedAt, long UpdatedAt);

public sealed record SelectionRes(int FrameIndex, IReadOnlyList<ObjectMaskData> RleMaskList);

public sealed record ObjectMaskData(int ObjectId, RleMaskData RleMask, PngMaskData PngMask);

public sealed record RleMaskData(int[] Size, string Counts);

public sealed record PngMaskData(int[] Size, string Base64);

public sealed record PreviewData(
    int Status, string SessionId, string FinalUnitDeduction, PreviewRes Res, string TaskId, string TaskStatus, long CreatedAt, long UpdatedAt);

public sealed record PreviewRes(string Video, string VideoCover, string TrackingOutput);

public sealed record CreateTaskData(string TaskId, string TaskStatus, CreateTaskInfo TaskInfo, long CreatedAt, long UpdatedAt, string SessionId);

public sealed record CreateTaskInfo(string? ExternalTaskId);

public sealed record UploadData(string UploadId, string Url, long Size, string ContentType);

// Request shapes, for the OpenAPI document only: the handlers read JSON field by field (JsonBody) to name bad fields in
// Kling's words, so these are never bound. [IgnoredByRoto] marks what Roto accepts from Kling clients and does not act on.

public sealed record InitSelectionRequest(
    string? VideoId = null,
    string? VideoUrl = null,
    [property: IgnoredByRoto, Description("CometAPI sends it with video_id.")] string? TaskId = null);

public sealed record PointRequest(double X, double Y, int? Label = null);

public sealed record SelectionRequest(string SessionId, int FrameIndex, IReadOnlyList<PointRequest> Points, int? ObjectId = null);

public sealed record SessionRequest(string SessionId);

public sealed record ImageItem(string Image);

public sealed record PlacementRequest(double X, double Y, double Scale = 0.35);

public sealed record WatermarkRequest(bool Enabled);

// Optional fields have defaults so that the document lists only session_id, edit_mode and prompt as required.
public sealed record CreateTaskRequest(
    string SessionId,
    string EditMode,
    [property: IgnoredByRoto, Description("Still required, as by Kling: at most 2,500 characters.")] string Prompt,
    [property: IgnoredByRoto, Description("Still checked: kling-v1, kling-v1-5 or kling-v1-6.")] string? ModelName = null,
    IReadOnlyList<ImageItem>? ImageList = null,
    [property: IgnoredByRoto, Description("Still checked: at most 2,500 characters.")] string? NegativePrompt = null,
    [property: IgnoredByRoto, Description("Still checked: std or pro.")] string? Mode = null,
    [property: Description("\"5\" or \"10\". Under the kling input profile it must fit the session's video; the result is as long as the video.")]
    string? Duration = null,
    [property: IgnoredByRoto, Description("Still checked: 0 to 1.")] double? CfgScale = null,
    [property: IgnoredByRoto, Description("Still checked: 16:9, 9:16 or 1:1.")] string? AspectRatio = null,
    [property: IgnoredByRoto, Description("Still checked: {type, config}.")] object? CameraControl = null,
    WatermarkRequest? WatermarkInfo = null,
    string? CallbackUrl = null,
    string? ExternalTaskId = null,
    PlacementRequest? Placement = null);

/// <summary>The multipart form of POST /v1/uploads.</summary>
public sealed record UploadRequest(IFormFile File);
