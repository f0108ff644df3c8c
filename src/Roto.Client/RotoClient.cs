using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Roto.Client.Http;

namespace Roto.Client;

/// <summary>
/// Typed client for the Kling Multi-Elements API as served by Roto (or Kling): selection, preview, edit tasks,
/// uploads and downloads. Errors surface as <see cref="RotoApiException"/>; rate limits and transient faults
/// are retried by the HTTP stack (see <see cref="RotoResilience"/>).
/// </summary>
public sealed class RotoClient : IDisposable
{
    /// <summary>Name of the client registered by <c>AddRotoClient</c>.</summary>
    public const string HttpClientName = "Roto";

    private const string MultiElements = "v1/videos/multi-elements";

    private readonly HttpClient _http;
    private readonly RotoClientOptions _options;
    private readonly bool _ownsHttpClient;

    /// <summary>
    /// Wraps an <see cref="HttpClient"/> that already carries authorization and retries (from <c>AddRotoClient</c>
    /// or <see cref="RotoHttp.CreateHttpClient"/>). Its BaseAddress, when null, becomes <paramref name="options"/>' base URL.
    /// </summary>
    public RotoClient(HttpClient httpClient, RotoClientOptions? options = null)
        : this(httpClient, options ?? new RotoClientOptions(), ownsHttpClient: false)
    {
    }

    private RotoClient(HttpClient httpClient, RotoClientOptions options, bool ownsHttpClient)
    {
        _http = httpClient;
        _options = options;
        _ownsHttpClient = ownsHttpClient;
        _http.BaseAddress ??= options.NormalizedBaseUrl;
    }

    /// <summary>A client with its own HTTP stack; <paramref name="innerHandler"/> replaces the network (e.g. an in-process test server).</summary>
    public static RotoClient Create(RotoClientOptions options, HttpMessageHandler? innerHandler = null) =>
        new(RotoHttp.CreateHttpClient(options, innerHandler), options, ownsHttpClient: true);

    /// <summary>The API root requests go to.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Registers a video for editing and opens a session.</summary>
    public Task<InitSelectionResult> InitSelectionAsync(InitSelectionRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<InitSelectionResult>($"{MultiElements}/init-selection", request, resendable: true, cancellationToken);

    /// <summary>Opens a session on the video at <paramref name="videoUrl"/> (e.g. an upload's URL).</summary>
    public Task<InitSelectionResult> InitSelectionAsync(string videoUrl, CancellationToken cancellationToken = default) =>
        InitSelectionAsync(InitSelectionRequest.FromUrl(videoUrl), cancellationToken);

    /// <summary>Adds points on one frame; answers with that frame's masks.</summary>
    public Task<SelectionResult> AddSelectionAsync(SelectionRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<SelectionResult>($"{MultiElements}/add-selection", request, resendable: false, cancellationToken);

    /// <summary>Removes points (equal to ones added) from one frame; answers with that frame's masks.</summary>
    public Task<SelectionResult> DeleteSelectionAsync(SelectionRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<SelectionResult>($"{MultiElements}/delete-selection", request, resendable: false, cancellationToken);

    /// <summary>Clears every selection of the session.</summary>
    public Task<SessionResult> ClearSelectionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        PostAsync<SessionResult>($"{MultiElements}/clear-selection", new SessionRequest(sessionId), resendable: true, cancellationToken);

    /// <summary>Tracks the selection through the video; answers with the overlay video, its cover and the per-frame masks.</summary>
    public Task<PreviewResult> PreviewSelectionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        PostAsync<PreviewResult>($"{MultiElements}/preview-selection", new SessionRequest(sessionId), resendable: true, cancellationToken);

    /// <summary>
    /// Starts an edit task. Retried on 1303/1302 (the server refused it before doing anything) but never after a
    /// network fault, which could create it twice.
    /// </summary>
    public Task<EditTask> CreateTaskAsync(CreateTaskRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<EditTask>(MultiElements, request, resendable: false, cancellationToken);

    /// <summary>One task, by task_id or external_task_id.</summary>
    public Task<EditTask> GetTaskAsync(string taskId, CancellationToken cancellationToken = default) =>
        SendAsync<EditTask>(new HttpRequestMessage(HttpMethod.Get, $"{MultiElements}/{Uri.EscapeDataString(taskId)}"), cancellationToken);

    /// <summary>One page of the account's tasks, newest first.</summary>
    /// <param name="pageNum">1-based page, 1–1000.</param>
    /// <param name="pageSize">Tasks per page, 1–500.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<IReadOnlyList<EditTask>> ListTasksAsync(int pageNum = 1, int pageSize = 30, CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<EditTask>>(new HttpRequestMessage(HttpMethod.Get, $"{MultiElements}?pageNum={pageNum}&pageSize={pageSize}"), cancellationToken);

    /// <summary>Stores a file on the server (Roto extension); its URL works as <c>video_url</c> and in <c>image_list</c>.</summary>
    /// <param name="content">The file's bytes; a seekable stream allows the upload to be retried.</param>
    /// <param name="fileName">Name sent in the multipart part; its extension tells the media type when none is given.</param>
    /// <param name="contentType">Media type; guessed from <paramref name="fileName"/> when null.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public Task<UploadResult> UploadAsync(Stream content, string fileName, string? contentType = null, CancellationToken cancellationToken = default)
    {
        var file = new StreamContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? MediaTypes.FromFileName(fileName));
        var form = new MultipartFormDataContent { { file, "file", Path.GetFileName(fileName) } };
        return SendAsync<UploadResult>(new HttpRequestMessage(HttpMethod.Post, "v1/uploads") { Content = form }, cancellationToken);
    }

    /// <summary>Uploads a local file.</summary>
    public async Task<UploadResult> UploadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(path);
        return await UploadAsync(stream, path, null, cancellationToken);
    }

    /// <summary>
    /// Polls a task until it succeeds (returned), fails (<see cref="RotoTaskFailedException"/>) or
    /// <see cref="TaskWaitOptions.Timeout"/> passes (<see cref="RotoWaitTimeoutException"/>).
    /// </summary>
    public async Task<EditTask> WaitForTaskAsync(string taskId, TaskWaitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TaskWaitOptions();
        var interval = options.PollInterval ?? _options.PollInterval;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        EditTask? last = null;
        try
        {
            while (true)
            {
                last = await GetTaskAsync(taskId, deadline.Token);
                options.OnProgress?.Invoke(last);
                if (last.TaskStatus == TaskStatuses.Succeed) return last;
                if (last.TaskStatus == TaskStatuses.Failed) throw new RotoTaskFailedException(last);
                await Task.Delay(interval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RotoWaitTimeoutException(taskId, options.Timeout, last);
        }
    }

    /// <summary>Copies the file at <paramref name="url"/> (absolute, or relative to the API root) into <paramref name="destination"/>.</summary>
    /// <param name="url">A result, preview or upload URL.</param>
    /// <param name="destination">Receives the bytes.</param>
    /// <param name="progress">Reports bytes copied so far.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>Bytes copied.</returns>
    public async Task<long> DownloadAsync(string url, Stream destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Resolve(url));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw ErrorFrom(response, await response.Content.ReadAsByteArrayAsync(cancellationToken));
        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
            progress?.Report(total);
        }
        return total;
    }

    /// <summary>Downloads to a file, written beside it first and moved into place, so no half file is left on failure.</summary>
    public async Task<long> DownloadToFileAsync(string url, string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var partial = full + ".part";
        try
        {
            long bytes;
            await using (var file = File.Create(partial))
                bytes = await DownloadAsync(url, file, progress, cancellationToken);
            File.Move(partial, full, overwrite: true);
            return bytes;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>Downloads a succeeded task's first result video to a file.</summary>
    public Task<long> DownloadResultAsync(EditTask task, string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        task.ResultUrl is { } url
            ? DownloadToFileAsync(url, path, progress, cancellationToken)
            : throw new InvalidOperationException($"Task {task.TaskId} has no result video (status {task.TaskStatus})");

    /// <summary>Fetches and parses a preview's <c>tracking_output</c> document.</summary>
    public async Task<TrackingOutput> GetTrackingOutputAsync(string url, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await DownloadAsync(url, buffer, null, cancellationToken);
        buffer.Position = 0;
        return await JsonSerializer.DeserializeAsync<TrackingOutput>(buffer, RotoJson.Options, cancellationToken)
            ?? throw new InvalidDataException("tracking_output was empty");
    }

    /// <summary>True when <c>GET /health</c> answers with a success status (Roto only).</summary>
    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync("health", cancellationToken);
        return response.IsSuccessStatusCode;
    }

    /// <summary>Disposes the HTTP stack if this client created it.</summary>
    public void Dispose()
    {
        if (_ownsHttpClient) _http.Dispose();
    }

    private Uri Resolve(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https"
            ? absolute
            : new Uri(_http.BaseAddress!, url.TrimStart('/'));

    private Task<T> PostAsync<T>(string path, object body, bool resendable, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(body, body.GetType(), options: RotoJson.Options),
        };
        request.Options.Set(RotoResilience.Resendable, resendable);
        return SendAsync<T>(request, cancellationToken);
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        using (var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken))
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var envelope = TryParse<Envelope<T>>(body);
            if (!response.IsSuccessStatusCode || envelope?.Code is not 0)
                throw ErrorFrom(response, body);
            return envelope.Data ?? throw new RotoApiException(0, response.StatusCode, envelope.RequestId, "the answer carried no data");
        }
    }

    private static RotoApiException ErrorFrom(HttpResponseMessage response, byte[] body)
    {
        var envelope = TryParse<Envelope<JsonElement>>(body);
        var requestId = envelope?.RequestId ?? HeaderValue(response, "X-Request-Id");
        return envelope?.Code is { } code && code != 0
            ? new RotoApiException(code, response.StatusCode, requestId, envelope.Message ?? "")
            : new RotoApiException(RotoApiException.NoEnvelopeCode, response.StatusCode, requestId, Snippet(body, response));
    }

    private static string? HeaderValue(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string Snippet(byte[] body, HttpResponseMessage response)
    {
        var text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)).Trim();
        return text.Length > 0 ? text : response.ReasonPhrase ?? "no body";
    }

    private static T? TryParse<T>(byte[] body) where T : class
    {
        if (body.Length == 0) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(body, RotoJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>How <see cref="RotoClient.WaitForTaskAsync"/> waits.</summary>
public sealed class TaskWaitOptions
{
    /// <summary>Give up after this long (default 15 minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Time between polls; the client's <see cref="RotoClientOptions.PollInterval"/> when null.</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary>Called with every polled task state (watch <see cref="EditTask.TaskProgress"/> and <see cref="EditTask.TaskStatus"/>).</summary>
    public Action<EditTask>? OnProgress { get; init; }
}

/// <summary>Media types of the files the API accepts, by extension.</summary>
internal static class MediaTypes
{
    public static string FromFileName(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".mp4" or ".m4v" => "video/mp4",
        ".mov" => "video/quicktime",
        ".webm" => "video/webm",
        ".mkv" => "video/x-matroska",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        _ => "application/octet-stream",
    };
}
