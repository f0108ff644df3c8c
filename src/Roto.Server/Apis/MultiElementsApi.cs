using System.Text.Json;
using Roto.Core;
using Roto.Core.Data;
using Roto.Core.Sessions;
using Roto.Core.Storage;
using Roto.Core.Tasks;
using Roto.Masks;
using Roto.Server.Auth;
using Roto.Server.Wire;

namespace Roto.Server.Apis;

/// <summary>The Multi-Elements endpoints (spec §2), mapped under one prefix.</summary>
public static class MultiElementsApi
{
    public static void MapMultiElementsApi(this IEndpointRouteBuilder app, string prefix)
    {
        var g = app.MapGroup($"{prefix}/videos/multi-elements").WithTags("Multi-Elements");
        g.MapPost("/init-selection", InitAsync).ReadsJson<InitSelectionRequest>().Produces<Envelope<InitSelectionData>>();
        g.MapPost("/add-selection", AddAsync).ReadsJson<SelectionRequest>().Produces<Envelope<SelectionData>>();
        g.MapPost("/delete-selection", DeleteAsync).ReadsJson<SelectionRequest>().Produces<Envelope<SelectionData>>();
        g.MapPost("/clear-selection", ClearAsync).ReadsJson<SessionRequest>().Produces<Envelope<SelectionData>>();
        g.MapPost("/preview-selection", PreviewAsync).ReadsJson<SessionRequest>().Produces<Envelope<PreviewData>>();
        g.MapPost("", CreateTaskAsync).ReadsJson<CreateTaskRequest>().Produces<Envelope<CreateTaskData>>();
        g.MapGet("/{id}", GetTaskAsync).Produces<Envelope<TaskView>>();
        g.MapGet("", ListTasksAsync).Produces<Envelope<List<TaskView>>>();
    }

    private static async Task<IResult> InitAsync(HttpContext http, SessionService sessions, FileStore files, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var videoId = body.OptString("video_id", 200);
        var videoUrl = body.OptString("video_url", 4000);
        body.OptString("task_id", 200); // CometAPI sends it with video_id: accepted and ignored
        if (videoId == null && videoUrl == null) throw KlingError.Invalid("video_id or video_url is required");
        if (videoId != null && videoUrl != null) throw KlingError.Invalid("give only one of video_id and video_url");

        var s = await sessions.InitAsync(ApiGate.AccountOf(http), videoId, videoUrl, ct);
        var fps = Math.Round((double)s.FpsNum / s.FpsDen, 3);
        return Envelopes.Ok(http, new InitSelectionData(0, s.Id, "0", fps, s.OriginalDurationMs, s.Width, s.Height, s.TotalFrames,
            FileUrl(http, files, s.VideoKey, s.ExpiresAt), Ids.New(), TaskStatuses.Succeed, s.CreatedAt, s.UpdatedAt));
    }

    private static async Task<IResult> AddAsync(HttpContext http, SessionService sessions, CancellationToken ct)
    {
        var (sessionId, frame, objectId, points) = await ReadSelectionAsync(http, ct);
        var result = await sessions.AddAsync(ApiGate.AccountOf(http), sessionId, frame, objectId, points, ct);
        return Envelopes.Ok(http, SelectionDataOf(result));
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, SessionService sessions, CancellationToken ct)
    {
        var (sessionId, frame, objectId, points) = await ReadSelectionAsync(http, ct);
        var result = await sessions.DeleteAsync(ApiGate.AccountOf(http), sessionId, frame, objectId, points, ct);
        return Envelopes.Ok(http, SelectionDataOf(result));
    }

    private static async Task<IResult> ClearAsync(HttpContext http, SessionService sessions, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (session, at) = await sessions.ClearAsync(ApiGate.AccountOf(http), body.ReqString("session_id", 64), ct);
        return Envelopes.Ok(http, new SelectionData(0, session.Id, "0", null, Ids.New(), TaskStatuses.Succeed, at, at));
    }

    private static async Task<IResult> PreviewAsync(HttpContext http, PreviewService preview, FileStore files, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var started = Ids.NowMs();
        var s = await preview.PreviewAsync(ApiGate.AccountOf(http), body.ReqString("session_id", 64), ct);
        var res = new PreviewRes(FileUrl(http, files, s.PreviewVideoKey!, s.ExpiresAt), FileUrl(http, files, s.PreviewCoverKey!, s.ExpiresAt),
            FileUrl(http, files, s.TrackingKey!, s.ExpiresAt));
        return Envelopes.Ok(http, new PreviewData(0, s.Id, "0", res, Ids.New(), TaskStatuses.Succeed, started, Ids.NowMs()));
    }

    private static async Task<IResult> CreateTaskAsync(HttpContext http, TaskService tasks, TaskViews views, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var request = CreateTaskReader.Read(body);
        var task = await tasks.CreateAsync(ApiGate.AccountOf(http), request, RequestBase(http), ct);
        return Envelopes.Ok(http, new CreateTaskData(task.Id, task.Status, new CreateTaskInfo(task.ExternalTaskId), task.CreatedAt, task.UpdatedAt, task.SessionId));
    }

    private static readonly string[] SelectionRoutes = ["init-selection", "add-selection", "delete-selection", "clear-selection", "preview-selection"];

    private static async Task<IResult> GetTaskAsync(HttpContext http, string id, TaskService tasks, TaskViews views, CancellationToken ct)
    {
        // GET on a selection route would otherwise read as a task id.
        if (SelectionRoutes.Contains(id)) throw new KlingError(KlingCodes.InvalidMethod, $"GET is not supported on {http.Request.Path}; use POST");
        var task = await tasks.FindAsync(ApiGate.AccountOf(http), id, ct);
        return Envelopes.Ok(http, views.ToView(task, RequestBase(http)));
    }

    private static async Task<IResult> ListTasksAsync(HttpContext http, TaskService tasks, TaskViews views, CancellationToken ct)
    {
        var q = http.Request.Query;
        var account = ApiGate.AccountOf(http);
        if (!string.IsNullOrEmpty(q["external_task_id"]))
        {
            var task = await tasks.FindByExternalIdAsync(account, q["external_task_id"]!, ct);
            return Envelopes.Ok(http, views.ToView(task, RequestBase(http)));
        }
        var pageNum = QueryInt(q["pageNum"], "pageNum", 1, 1, 1000);
        var pageSize = QueryInt(q["pageSize"], "pageSize", 30, 1, 500);
        var list = await tasks.ListAsync(account, pageNum, pageSize, ct);
        var baseUrl = RequestBase(http);
        return Envelopes.Ok(http, list.Select(t => views.ToView(t, baseUrl)).ToList());
    }

    private static async Task<(string SessionId, int Frame, int ObjectId, List<PointInput> Points)> ReadSelectionAsync(HttpContext http, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var sessionId = body.ReqString("session_id", 64);
        // Only the type here: the range is the session's frames, which the session service names in its answer.
        var frame = body.ReqInt("frame_index", int.MinValue, int.MaxValue);
        var objectId = body.OptInt("object_id", 0, 1000) ?? 0;
        var array = body.OptArray("points") ?? throw KlingError.Invalid("points is required (at least one {x, y})");
        var points = new List<PointInput>();
        var i = 0;
        foreach (var p in array.EnumerateArray())
        {
            var path = $"points[{i++}]";
            if (p.ValueKind != JsonValueKind.Object) throw KlingError.Invalid($"{path} must be an object {{x, y}}");
            var x = JsonBody.ReqNumber(p, "x", $"{path}.x", 0, 1);
            var y = JsonBody.ReqNumber(p, "y", $"{path}.y", 0, 1);
            var label = JsonBody.OptInt(p, "label", $"{path}.label", 0, 1) ?? 1;
            points.Add(new PointInput(x, y, label));
        }
        if (points.Count > SessionService.MaxPointsPerFrame)
            throw KlingError.Invalid($"points: at most {SessionService.MaxPointsPerFrame} points per frame (got {points.Count})");
        return (sessionId, frame, objectId, points);
    }

    private static SelectionData SelectionDataOf(FrameSelection r)
    {
        var list = r.Masks.Select(m =>
        {
            int[] size = [r.Session.Height, r.Session.Width];
            return new ObjectMaskData(m.ObjectId, new RleMaskData(size, m.Counts), new PngMaskData(size, Convert.ToBase64String(MaskPng.Encode(m.Mask))));
        }).ToList();
        return new SelectionData(0, r.Session.Id, "0", new SelectionRes(r.FrameIndex, list), Ids.New(), TaskStatuses.Succeed, r.OperationAt, r.OperationAt);
    }

    private static int QueryInt(string? value, string name, int fallback, int min, int max)
    {
        if (string.IsNullOrEmpty(value)) return fallback;
        if (!int.TryParse(value, out var n) || n < min || n > max) throw KlingError.Invalid($"{name} must be an integer between {min} and {max}");
        return n;
    }

    /// <summary>The scheme and host this request came through.</summary>
    public static string RequestBase(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";

    public static string FileUrl(HttpContext http, FileStore files, string key, long expiresAtMs)
    {
        var baseUrl = http.RequestServices.GetRequiredService<TaskViews>().BaseUrl(RequestBase(http));
        return baseUrl + files.SignedPath(key, DateTimeOffset.FromUnixTimeMilliseconds(expiresAtMs));
    }
}
