using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Roto.Bench.Load;

/// <summary>
/// One account running the whole flow in a loop, as a Kling client would: a 429 (1302 rate or 1303 concurrency
/// limit) is waited out with back-off and counted, never treated as a failure; anything else unexpected is an error.
/// </summary>
public sealed class AccountFlow(string baseUrl, string key, byte[] clip, Stats stats, TimeSpan poll)
{
    private const string B = "/v1/videos/multi-elements";
    private readonly HttpClient _http = CreateClient(baseUrl, key);

    private static HttpClient CreateClient(string baseUrl, string key)
    {
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromMinutes(10),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>Runs flows until <paramref name="until"/>; a flow that has started is finished (not cut off).</summary>
    public async Task RunAsync(DateTime until)
    {
        while (DateTime.UtcNow < until)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                await OneFlowAsync();
                stats.Record("flow", watch.Elapsed.TotalMilliseconds);
                stats.FlowDone();
            }
            catch (FlowFailed)
            {
                stats.FlowFailed();
                await Task.Delay(1000);
            }
        }
    }

    /// <summary>One flow, counted like any other.</summary>
    public async Task RunOnceAsync()
    {
        try
        {
            await OneFlowAsync();
            stats.FlowDone();
        }
        catch (FlowFailed)
        {
            stats.FlowFailed();
        }
    }

    private async Task OneFlowAsync()
    {
        var upload = await SendAsync("upload", () =>
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(clip);
            file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
            form.Add(file, "file", "clip.mp4");
            return new HttpRequestMessage(HttpMethod.Post, "/v1/uploads") { Content = form };
        });
        var url = upload["url"]!.GetValue<string>();
        var sid = (await PostAsync("init-selection", $"{B}/init-selection", new JsonObject { ["video_url"] = url }))["session_id"]!.GetValue<string>();
        await PostAsync("add-selection", $"{B}/add-selection", new JsonObject
        {
            ["session_id"] = sid, ["frame_index"] = 0,
            ["points"] = new JsonArray(new JsonObject { ["x"] = 0.49, ["y"] = 0.64 }),
        });
        await PostAsync("preview-selection", $"{B}/preview-selection", new JsonObject { ["session_id"] = sid });
        var turnaround = Stopwatch.StartNew();
        var taskId = (await PostAsync("create-task", B, new JsonObject
        {
            ["session_id"] = sid, ["edit_mode"] = "removal", ["prompt"] = "Delete the dog from <<<video_1>>>",
        }))["task_id"]!.GetValue<string>();

        JsonNode task;
        while (true)
        {
            await Task.Delay(poll);
            task = await SendAsync("poll", () => new HttpRequestMessage(HttpMethod.Get, $"{B}/{taskId}"));
            var status = task["task_status"]!.GetValue<string>();
            if (status == "succeed") break;
            if (status == "failed")
            {
                stats.Error("poll", $"task {taskId} failed: {task["task_status_msg"]}");
                throw new FlowFailed();
            }
        }
        stats.Record("task-turnaround", turnaround.Elapsed.TotalMilliseconds);

        var resultUrl = new Uri(task["task_result"]!["videos"]![0]!["url"]!.GetValue<string>());
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await _http.GetAsync(resultUrl.PathAndQuery);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            stats.Record("download", watch.Elapsed.TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.OK || bytes.Length < 1000)
            {
                stats.Error("download", $"HTTP {(int)response.StatusCode}, {bytes.Length} bytes");
                throw new FlowFailed();
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            stats.Error("download", ex.Message);
            throw new FlowFailed();
        }
    }

    private Task<JsonNode> PostAsync(string endpoint, string path, JsonObject body) =>
        SendAsync(endpoint, () => new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        });

    /// <summary>Sends one request (again after a 429, with back-off) and returns the envelope's data, or fails the flow.</summary>
    private async Task<JsonNode> SendAsync(string endpoint, Func<HttpRequestMessage> request)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 0; ; attempt++)
        {
            var watch = Stopwatch.StartNew();
            int status;
            string text;
            try
            {
                using var message = request();
                using var response = await _http.SendAsync(message);
                text = await response.Content.ReadAsStringAsync();
                status = (int)response.StatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                stats.Error(endpoint, ex.Message);
                throw new FlowFailed();
            }
            var ms = watch.Elapsed.TotalMilliseconds;
            JsonNode? body = null;
            try { body = JsonNode.Parse(text); } catch (System.Text.Json.JsonException) { }
            var code = body?["code"]?.GetValue<int>();
            if (status == 429 && code is (1302 or 1303) && attempt < 8)
            {
                stats.Backoff(endpoint);
                await Task.Delay(delay);
                delay *= 2;
                continue;
            }
            stats.Record(endpoint, ms);
            if (status == 200 && code == 0 && body?["data"] is { } data) return data;
            stats.Error(endpoint, $"HTTP {status}: {(text.Length > 300 ? text[..300] : text)}");
            throw new FlowFailed();
        }
    }

    private sealed class FlowFailed : Exception;
}
