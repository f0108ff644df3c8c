using Roto.Core.Data;
using Roto.Core.Storage;

namespace Roto.Core.Tasks;

/// <summary>A task as the wire shows it (spec §2.7), also the callback body (§4.3).</summary>
public sealed record TaskView(
    string TaskId,
    string TaskStatus,
    string TaskStatusMsg,
    TaskInfoView TaskInfo,
    TaskResultView TaskResult,
    WatermarkInfoView WatermarkInfo,
    string FinalUnitDeduction,
    long CreatedAt,
    long UpdatedAt,
    string SessionId,
    int TaskProgress);

public sealed record TaskInfoView(string? ExternalTaskId);

public sealed record TaskResultView(IReadOnlyList<ResultVideoView> Videos);

public sealed record ResultVideoView(string Id, string SessionId, string Url, string? WatermarkUrl, string Duration);

public sealed record WatermarkInfoView(bool Enabled);

/// <summary>Builds task views with signed file URLs.</summary>
public sealed class TaskViews(FileStore files, Microsoft.Extensions.Options.IOptions<RotoOptions> options)
{
    public TaskView ToView(TaskRecord t, string? requestBaseUrl = null)
    {
        var videos = new List<ResultVideoView>();
        if (t.Status == TaskStatuses.Succeed && t.ResultKey != null)
        {
            var baseUrl = BaseUrl(requestBaseUrl ?? t.BaseUrl);
            var expires = DateTimeOffset.FromUnixTimeMilliseconds(t.FinishedAt ?? t.UpdatedAt) + options.Value.ResultLifetime;
            videos.Add(new ResultVideoView(t.ResultVideoId!, t.SessionId, baseUrl + files.SignedPath(t.ResultKey, expires),
                t.WatermarkKey != null ? baseUrl + files.SignedPath(t.WatermarkKey, expires) : null, t.ResultDuration ?? "0"));
        }
        return new TaskView(t.Id, t.Status, t.StatusMessage, new TaskInfoView(t.ExternalTaskId), new TaskResultView(videos),
            new WatermarkInfoView(t.WatermarkEnabled), "0", t.CreatedAt, t.UpdatedAt, t.SessionId, t.Progress);
    }

    /// <summary>Roto:PublicBaseUrl when set, else the given request base.</summary>
    public string BaseUrl(string requestBaseUrl) =>
        (string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl) ? requestBaseUrl : options.Value.PublicBaseUrl).TrimEnd('/');
}
