using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Roto.TestSupport;

namespace Roto.Bench.Tracking;

/// <summary>
/// Times preview-selection through the HTTP API of a Roto server started as a child process (the served engines,
/// Release build), next to an ffmpeg veryfast transcode of the same clip in the same run, and samples the server's
/// resident memory (/proc/&lt;pid&gt;/status) while it normalizes and previews a 10 s 1920×1080 60 fps clip made from 01_dog.mp4,
/// and a 4 s 1080p30 one (120 frames, the longest clip whose preview is matched: Roto:Tracking:PreviewMatchingMaxFrames).
/// </summary>
internal static class ServerRun
{
    internal const string Key = "bench-key";

    public static void Run(string serverDll, int repeats, IEnumerable<string> serverArgs)
    {
        using var server = new ServerProcess(serverDll, serverArgs);
        Console.WriteLine($"\n## preview-selection through the API (server pid {server.Pid}, load {Load()})\n");
        Console.WriteLine($"health: {server.Http.GetStringAsync("/health").GetAwaiter().GetResult()}\n");
        PreviewDog(server.Http, server.Memory, repeats);
        PreviewBig(server.Http, server.Memory, 10, 60);
        PreviewBig(server.Http, server.Memory, 4, 30);
    }

    /// <summary>
    /// A Roto server (Release build) as a child process with its own data folder, started as ./run.sh starts it;
    /// extra arguments are configuration overrides (--Roto:Key=Value).
    /// </summary>
    internal sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _data = TestData.TempDir("roto-bench-server");

        public HttpClient Http { get; }
        public RssSampler Memory { get; }
        public int Pid => _process.Id;

        public ServerProcess(string serverDll, IEnumerable<string> extraArgs)
        {
            var port = 18500 + Random.Shared.Next(400);
            var baseUrl = $"http://127.0.0.1:{port}";
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    serverDll, "--contentRoot", Path.GetDirectoryName(Path.GetFullPath(serverDll))!, "--urls", baseUrl,
                    $"--Roto:DataDir={_data}", $"--Roto:ApiKeys:0={Key}", "--Roto:Limits:Profile=relaxed",
                    "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Roto.Core.Sessions.FirstFrameWarmer=Information",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // As ./run.sh starts it: the memory measured is the memory a user's server takes.
                Environment = { ["MALLOC_ARENA_MAX"] = "2" },
            };
            foreach (var a in extraArgs) start.ArgumentList.Add(a);
            _process = Process.Start(start)!;
            // The server's plan for its previews (the encoder pass it timed at load) goes with the figures it explains.
            _process.OutputDataReceived += (_, e) => { if (e.Data?.Contains("planned on one encoder pass") == true) Console.WriteLine($"server: {e.Data.Trim()}"); };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            Memory = new RssSampler(_process.Id);
            Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(10) };
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            WaitUntilUp(Http);
            WaitUntilWarm(Http);
        }

        public void Dispose()
        {
            Http.Dispose();
            Memory.Dispose();
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
            Directory.Delete(_data, true);
        }
    }

    private static void PreviewDog(HttpClient http, RssSampler memory, int repeats)
    {
        var clip = TestData.Clip("01_dog.mp4");
        var session = OpenSession(http, clip);
        Console.WriteLine("| run | ffmpeg veryfast s | preview (1st call) s | ratio | preview (2nd call) s | peak RSS during preview MiB |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var rows = new List<(double Ffmpeg, double First, double Second)>();
        for (var r = 0; r < repeats; r++)
        {
            var ffmpeg = TimeFfmpeg(clip);
            // A new selection state each run, so the first call computes and the second reuses.
            Call(http, "clear-selection", new { session_id = session });
            Call(http, "add-selection", new { session_id = session, frame_index = 0, points = new[] { new { x = 0.49, y = 0.64 } } });
            memory.Reset();
            var sw = Stopwatch.StartNew();
            var res = Call(http, "preview-selection", new { session_id = session });
            var first = sw.Elapsed.TotalSeconds;
            var peak = $"{memory.PeakMiB} ({memory.PeakWithChildrenMiB} with ffmpeg children)";
            sw.Restart();
            Call(http, "preview-selection", new { session_id = session });
            var second = sw.Elapsed.TotalSeconds;
            rows.Add((ffmpeg, first, second));
            Console.WriteLine($"| {r + 1} | {ffmpeg:F2} | {first:F2} | {first / ffmpeg:F2} | {second:F3} | {peak} |");
            if (r == 0) Console.WriteLine($"<!-- overlay video: {ProbeResult(http, res)} -->");
        }
        static double Median(IEnumerable<double> v) => v.Order().ElementAt(v.Count() / 2);
        var mf = Median(rows.Select(r => r.Ffmpeg));
        var m1 = Median(rows.Select(r => r.First));
        Console.WriteLine($"| **median** | **{mf:F2}** | **{m1:F2}** | **{m1 / mf:F2}** | **{Median(rows.Select(r => r.Second)):F3}** | |");
        Console.WriteLine($"\noverlay video of 01_dog.mp4: {ProbeResult(http, Call(http, "preview-selection", new { session_id = session }))}; load {Load()}");
    }

    /// <summary>Upload, init and preview of 01_dog.mp4 made <paramref name="seconds"/> s of 1920×1080 at <paramref name="fps"/>.</summary>
    private static void PreviewBig(HttpClient http, RssSampler memory, int seconds, int fps)
    {
        var dir = TestData.TempDir("roto-bench-big");
        try
        {
            var clip = TestData.MakeFromClip(dir, $"1080p{fps}.mp4", TestData.Clip("01_dog.mp4"), 1920, 1080, seconds, fps.ToString(System.Globalization.CultureInfo.InvariantCulture));
            memory.Reset();
            var sw = Stopwatch.StartNew();
            var session = OpenSession(http, clip);
            var normalize = sw.Elapsed.TotalSeconds;
            var normalizePeak = $"{memory.PeakMiB} ({memory.PeakWithChildrenMiB} with ffmpeg children)";
            Call(http, "add-selection", new { session_id = session, frame_index = 0, points = new[] { new { x = 0.49, y = 0.64 } } });
            memory.Reset();
            sw.Restart();
            var res = Call(http, "preview-selection", new { session_id = session });
            var preview = sw.Elapsed.TotalSeconds;
            var previewPeak = $"{memory.PeakMiB} ({memory.PeakWithChildrenMiB} with ffmpeg children)";
            Console.WriteLine($"\n| 01_dog.mp4 as {seconds} s 1920×1080 {fps} fps ({seconds * fps} frames) | seconds | peak server RSS MiB (sampled every 20 ms) |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| upload + init-selection (normalization) | {normalize:F2} | {normalizePeak} |");
            Console.WriteLine($"| preview-selection | {preview:F2} | {previewPeak} |");
            Console.WriteLine($"| server lifetime VmHWM | | {memory.HighWaterMiB()} |");
            Console.WriteLine($"\noverlay video: {ProbeResult(http, res)}; load {Load()}");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string OpenSession(HttpClient http, string clip)
    {
        using var form = new MultipartFormDataContent();
        using var file = new StreamContent(File.OpenRead(clip));
        file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
        form.Add(file, "file", Path.GetFileName(clip));
        using var upload = http.PostAsync("/v1/uploads", form).GetAwaiter().GetResult();
        var url = Data(upload).GetProperty("url").GetString()!;
        return Call(http, "init-selection", new { video_url = url }).GetProperty("session_id").GetString()!;
    }

    private static JsonElement Call(HttpClient http, string route, object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = http.PostAsync($"/v1/videos/multi-elements/{route}", content).GetAwaiter().GetResult();
        return Data(response);
    }

    private static JsonElement Data(HttpResponseMessage response)
    {
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(text);
        if (!response.IsSuccessStatusCode || doc.RootElement.GetProperty("code").GetInt32() != 0)
            throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
        return doc.RootElement.GetProperty("data").Clone();
    }

    /// <summary>Codec, profile, pixel format, size and frame count of the returned overlay video.</summary>
    private static string ProbeResult(HttpClient http, JsonElement previewData)
    {
        var url = previewData.GetProperty("res").GetProperty("video").GetString()!;
        var path = Path.Combine(Path.GetTempPath(), $"roto-bench-overlay-{Guid.NewGuid():N}.mp4");
        try
        {
            File.WriteAllBytes(path, http.GetByteArrayAsync(url).GetAwaiter().GetResult());
            var probe = Process.Start(new ProcessStartInfo("ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_packets",
                "-show_entries", "stream=codec_name,profile,pix_fmt,width,height,nb_read_packets", "-of", "csv=p=0", path])
            { RedirectStandardOutput = true })!;
            var text = probe.StandardOutput.ReadToEnd().Trim();
            probe.WaitForExit();
            return text;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double TimeFfmpeg(string clip)
    {
        var dir = TestData.TempDir("roto-bench-ffmpeg");
        try
        {
            var sw = Stopwatch.StartNew();
            TestData.Ffmpeg("-i", clip, "-c:v", "libx264", "-preset", "veryfast", Path.Combine(dir, "out.mp4"));
            return sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void WaitUntilUp(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                using var response = http.GetAsync("/").GetAwaiter().GetResult();
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(250);
            }
        }
    }

    /// <summary>
    /// Waits until the server has loaded its networks (/health's warmed names the tracker, the last): a server in use
    /// has long done so, and its start would otherwise share the cores with the first timings (and with the encoder
    /// pass it times at load to plan previews by).
    /// </summary>
    private static void WaitUntilWarm(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            using var doc = JsonDocument.Parse(http.GetStringAsync("/health").GetAwaiter().GetResult());
            if (doc.RootElement.GetProperty("warmed").EnumerateArray().Any(e => e.GetString() == "tracker")) return;
            Thread.Sleep(250);
        }
        throw new TimeoutException("the server did not load its networks within 2 minutes");
    }

    internal static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    /// <summary>
    /// Samples a process's VmRSS every 20 ms and keeps the largest value since the last reset; also the largest sum of
    /// it and its child processes (the ffmpeg decoders and encoders it runs).
    /// </summary>
    internal sealed class RssSampler : IDisposable
    {
        private readonly int _pid;
        private readonly Timer _timer;
        private long _peakKb;
        private long _peakWithChildrenKb;

        public RssSampler(int pid)
        {
            _pid = pid;
            _timer = new Timer(_ => Sample(), null, 0, 20);
        }

        public long PeakMiB
        {
            get
            {
                Sample();
                return Interlocked.Read(ref _peakKb) / 1024;
            }
        }

        public long PeakWithChildrenMiB
        {
            get
            {
                Sample();
                return Interlocked.Read(ref _peakWithChildrenKb) / 1024;
            }
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _peakKb, 0);
            Interlocked.Exchange(ref _peakWithChildrenKb, 0);
        }

        public long HighWaterMiB() => Field(_pid, "VmHWM") / 1024;

        private void Sample()
        {
            var kb = Field(_pid, "VmRSS");
            var total = kb + Children().Sum(c => Field(c, "VmRSS"));
            Raise(ref _peakKb, kb);
            Raise(ref _peakWithChildrenKb, total);
        }

        private static void Raise(ref long peak, long value)
        {
            long seen;
            while (value > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, value, seen) != seen) { }
        }

        private IEnumerable<int> Children()
        {
            var ids = new List<int>();
            try
            {
                foreach (var task in Directory.GetDirectories($"/proc/{_pid}/task"))
                {
                    var file = Path.Combine(task, "children");
                    if (!File.Exists(file)) continue;
                    foreach (var id in File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries)) ids.Add(int.Parse(id));
                }
            }
            catch (IOException)
            {
                // The process or one of its threads has exited.
            }
            catch (UnauthorizedAccessException)
            {
            }
            return ids;
        }

        private static long Field(int pid, string name)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                    if (line.StartsWith(name + ":")) return long.Parse(line[(name.Length + 1)..].Trim().Split(' ')[0]);
            }
            catch (IOException)
            {
                // The process has exited.
            }
            return 0;
        }

        public void Dispose() => _timer.Dispose();
    }
}
