using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Roto.TestSupport;

namespace Roto.Bench.Editing;

/// <summary>
/// A Roto server to benchmark through HTTP: the release build of this repository started as its own process on a free
/// port with a fresh data directory (as ./run.sh starts it), or one already running at a given address.
/// </summary>
public sealed class RotoServer : IDisposable
{
    private readonly Process? _process;
    private readonly string? _dataDir;

    public string BaseUrl { get; }
    public string Key { get; }
    public HttpClient Http { get; }
    /// <summary>The started server's log (JSON lines); empty for a server that was already running.</summary>
    public StringBuilder Log { get; } = new();

    private RotoServer(string baseUrl, string key, Process? process, string? dataDir)
    {
        BaseUrl = baseUrl.TrimEnd('/');
        Key = key;
        _process = process;
        _dataDir = dataDir;
        Http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    public static RotoServer Existing(string baseUrl, string key) => new(baseUrl, key, null, null);

    /// <summary>Builds (Release) and starts src/Roto.Server; extra settings are configuration keys, e.g. Roto:Limits:Profile=relaxed.</summary>
    public static RotoServer Start(IReadOnlyDictionary<string, string> settings)
    {
        var build = Process.Start(new ProcessStartInfo("dotnet", ["build", "src/Roto.Server", "-c", "Release", "-nologo", "-v", "quiet"]) { RedirectStandardOutput = true })!;
        build.StandardOutput.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0) throw new InvalidOperationException("dotnet build src/Roto.Server failed (run it from the repository root)");
        var bin = Path.GetFullPath(Path.Combine("src", "Roto.Server", "bin", "Release", "net10.0"));
        var port = FreePort();
        var dataDir = TestData.TempDir("roto-bench-server");
        const string key = "bench-key";
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[Path.Combine(bin, "Roto.Server.dll"), "--contentRoot", bin, "--urls", $"http://127.0.0.1:{port}",
                     "--Roto:DataDir", dataDir, "--Roto:ApiKeys:0", key, "--Roto:Limits:RequestsPerMinute", "0"])
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in settings)
        {
            psi.ArgumentList.Add($"--{k}");
            psi.ArgumentList.Add(v);
        }
        var process = Process.Start(psi)!;
        var server = new RotoServer($"http://127.0.0.1:{port}", key, process, dataDir);
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (server.Log) server.Log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (server.Log) server.Log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        server.WaitUntilUp();
        return server;
    }

    private void WaitUntilUp()
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (_process is { HasExited: true }) throw new InvalidOperationException("the server exited: " + Log);
            try
            {
                using var r = Http.GetAsync($"{BaseUrl}/v1/videos/multi-elements").GetAwaiter().GetResult();
                if (r.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            Thread.Sleep(200);
        }
        throw new TimeoutException("the server did not answer within 2 minutes");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Uploads a file; returns its URL for video_url.</summary>
    public string Upload(string path)
    {
        using var form = new MultipartFormDataContent();
        var content = new StreamContent(File.OpenRead(path));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "file", Path.GetFileName(path));
        return Data(Http.PostAsync($"{BaseUrl}/v1/uploads", form))["url"]!.GetValue<string>();
    }

    public JsonNode Post(string route, JsonObject body) =>
        Data(Http.PostAsync($"{BaseUrl}/v1/videos/multi-elements{route}", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json")));

    public JsonNode GetTask(string taskId) => Data(Http.GetAsync($"{BaseUrl}/v1/videos/multi-elements/{taskId}"));

    /// <summary>Polls every <paramref name="interval"/> until the task ends; returns its last view.</summary>
    public JsonNode WaitForTask(string taskId, TimeSpan interval)
    {
        while (true)
        {
            var view = GetTask(taskId);
            var status = view["task_status"]!.GetValue<string>();
            if (status == "succeed") return view;
            if (status == "failed") throw new InvalidOperationException($"task {taskId} failed: {view["task_status_msg"]}");
            Thread.Sleep(interval);
        }
    }

    public void Download(string url, string path)
    {
        using var stream = Http.GetStreamAsync(url).GetAwaiter().GetResult();
        using var file = File.Create(path);
        stream.CopyTo(file);
    }

    private static JsonNode Data(Task<HttpResponseMessage> call)
    {
        using var response = call.GetAwaiter().GetResult();
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        var body = JsonNode.Parse(text)!;
        if (!response.IsSuccessStatusCode || body["code"]?.GetValue<int>() != 0)
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {text}");
        return body["data"]!;
    }

    public void Dispose()
    {
        Http.Dispose();
        if (_process != null)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.WaitForExit();
            _process.Dispose();
        }
        if (_dataDir != null)
        {
            try { Directory.Delete(_dataDir, true); } catch (IOException) { }
        }
    }
}
