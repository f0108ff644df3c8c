using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>
/// The real Roto server in-process on its own data directory, with real SQLite, ffmpeg and engines.
/// Settings are configuration keys, as a user would set them.
/// </summary>
public sealed class RotoApp : WebApplicationFactory<Program>
{
    public const string KeyA = "test-key-account-a";
    public const string KeyB = "test-key-account-b";
    public const string AccessKey = "ak-test";
    public const string SecretKey = "sk-test-secret-0123456789abcdefghij";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public RotoApp(Dictionary<string, string?>? settings = null, string? dataDir = null, Action<IServiceCollection>? services = null)
    {
        DataDir = dataDir ?? TestData.TempDir("roto-server");
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["Roto:DataDir"] = DataDir,
            ["Roto:ApiKeys:0"] = KeyA,
            ["Roto:ApiKeys:1"] = KeyB,
            ["Roto:AccessKeys:0:AccessKey"] = AccessKey,
            ["Roto:AccessKeys:0:SecretKey"] = SecretKey,
            ["Roto:Limits:RequestsPerMinute"] = "0",
            // Clicks do all their own work here (fault tests swap the tools under running sessions); the warmer has its
            // own test (FirstFrameWarmerTests).
            ["Roto:WarmFirstFrame"] = "false",
            // The wire's tests run on the classical engines, which need no models and are quick; the learned engines have
            // their own tests (LearnedEngineTests here, Roto.Vision.Tests/Learned) on the real networks.
            ["Roto:Models:Engine"] = "classical",
            // Warnings and errors only: the test output stays readable.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? []) _settings[k] = v;
    }

    public string DataDir { get; }

    /// <summary>Work-in-progress files of any process under the data directory (each process's temp-folder lock aside).</summary>
    public static string[] WorkInProgressFiles(string dataDir)
    {
        var tmp = Path.Combine(dataDir, "files", "tmp");
        return !Directory.Exists(tmp) ? [] : Directory.GetFiles(tmp, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != Roto.Core.Storage.InstanceTempDirectory.LockFileName).ToArray();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
        if (_services != null) builder.ConfigureServices(_services);
    }

    public HttpClient Client(string key = KeyA)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }
}

/// <summary>Calls that speak the wire and return the parsed envelope, status included.</summary>
public static class Wire
{
    public sealed record Reply(int Status, JsonNode Body)
    {
        public int Code => Body["code"]!.GetValue<int>();
        public string Message => Body["message"]!.GetValue<string>();
        public JsonNode Data => Body["data"]!;

        public Reply Ok()
        {
            Assert.True(Status == 200 && Code == 0, $"expected success, got HTTP {Status}: {Body.ToJsonString()}");
            Assert.Equal("SUCCEED", Message);
            Assert.True(Guid.TryParse(Body["request_id"]!.GetValue<string>(), out _), "request_id must be a UUID");
            return this;
        }

        public Reply Error(int status, int code, string? mentions = null)
        {
            Assert.True(Status == status && Code == code, $"expected HTTP {status}/{code}, got HTTP {Status}: {Body.ToJsonString()}");
            Assert.False(string.IsNullOrWhiteSpace(Body["request_id"]?.GetValue<string>()), "errors carry a request_id");
            if (mentions != null) Assert.Contains(mentions, Message, StringComparison.OrdinalIgnoreCase);
            return this;
        }
    }

    public static async Task<Reply> PostAsync(HttpClient client, string path, object body)
    {
        var json = body as string ?? JsonSerializer.Serialize(body);
        using var response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return await ReadAsync(response);
    }

    public static async Task<Reply> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return await ReadAsync(response);
    }

    public static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        return new Reply((int)response.StatusCode, JsonNode.Parse(text)!);
    }

    public static async Task<Reply> UploadAsync(HttpClient client, string path, string prefix = "/v1")
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        form.Add(content, "file", Path.GetFileName(path));
        using var response = await client.PostAsync($"{prefix}/uploads", form);
        return await ReadAsync(response);
    }

    /// <summary>Uploads a file and opens a session on it.</summary>
    public static async Task<JsonNode> InitAsync(HttpClient client, string videoPath, string prefix = "/v1")
    {
        var url = (await UploadAsync(client, videoPath, prefix)).Ok().Data["url"]!.GetValue<string>();
        return (await PostAsync(client, $"{prefix}/videos/multi-elements/init-selection", new { video_id = "", video_url = url })).Ok().Data;
    }

    public static async Task<JsonNode> WaitForTaskAsync(HttpClient client, string taskId, TimeSpan timeout, string prefix = "/v1")
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var data = (await GetAsync(client, $"{prefix}/videos/multi-elements/{taskId}")).Ok().Data;
            var status = data["task_status"]!.GetValue<string>();
            if (status is "succeed" or "failed") return data;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"task {taskId} still {status}");
            await Task.Delay(500);
        }
    }

    /// <summary>Fetches a URL the server handed out (absolute, on the test server) through the same client.</summary>
    public static async Task<byte[]> DownloadAsync(HttpClient client, string url)
    {
        var uri = new Uri(url);
        using var response = await client.GetAsync(uri.PathAndQuery);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }
}

/// <summary>Small videos made with ffmpeg once per test run and shared by the tests.</summary>
public static class Videos
{
    private static readonly Lazy<string> Dir = new(() => TestData.TempDir("roto-videos"));
    private static readonly Lock Gate = new();

    private static string Make(string name, Func<string, string> make)
    {
        lock (Gate)
        {
            var path = Path.Combine(Dir.Value, name);
            return File.Exists(path) ? path : make(Dir.Value);
        }
    }

    /// <summary>1280×720, 24 fps, 2.5 s (60 frames) with audio: inside Kling's limits and quick to process.</summary>
    public static string Short720 => Make("short720.mp4", d => TestData.MakeVideo(d, "short720.mp4", 1280, 720, 2.5, "24"));

    public static string Sized(int w, int h, double seconds, string fps, string name) =>
        Make(name, d => TestData.MakeVideo(d, name, w, h, seconds, fps));
}
