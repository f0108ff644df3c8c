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

// Request shapes, for the OpenAPI document (the handlers read JSON field by field to name bad fields).

public sealed record InitSelectionRequest(string? VideoId, string? VideoUrl);

public sealed record PointRequest(double X, double Y, int? Label);

public sealed record SelectionRequest(string SessionId, int FrameIndex, IReadOnlyList<PointRequest> Points, int? ObjectId);

public sealed record SessionRequest(string SessionId);

public sealed record ImageItem(string Image);

public sealed record PlacementRequest(double X, double Y, double Scale);

public sealed record WatermarkRequest(bool Enabled);

public sealed record CreateTaskRequest(
    string? ModelName, string SessionId, string EditMode, IReadOnlyList<ImageItem>? ImageList, string Prompt, string? NegativePrompt,
    string? Mode, string? Duration, double? CfgScale, string? AspectRatio, object? CameraControl, WatermarkRequest? WatermarkInfo,
    string? CallbackUrl, string? ExternalTaskId, PlacementRequest? Placement);
