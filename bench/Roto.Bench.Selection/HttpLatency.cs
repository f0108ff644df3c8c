extern alias RotoServer;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenCvSharp;
using Roto.TestSupport;

namespace Roto.Bench.Selection;

/// <summary>
/// add-selection latency through the real server (Roto.Server's Program hosted in process by WebApplicationFactory:
/// routing, auth, JSON, frame decoding, the segmenter and both mask encodings, without a socket) on a 1280×720 clip
/// made with ffmpeg from the first frame of each DAVIS sequence, held for <see cref="FramesPerSequence"/> frames.
/// The simulated user (with exclude labels) clicks five times per frame; each new session makes every frame's first
/// click a cold one again.
/// </summary>
public static class HttpLatency
{
    private const int FramesPerSequence = 10;
    private static readonly TimeSpan PersonPause = TimeSpan.FromSeconds(2);
    private const string Key = "bench-key";
    private const string Base = "/v1/videos/multi-elements";

    public static async Task MeasureAsync(string root, IReadOnlyList<string> sequences, int sessions = 2)
    {
        var work = Directory.CreateTempSubdirectory("roto-bench-http").FullName;
        try
        {
            var clip = MakeClip(root, sequences, work);
            // The server's content root, as the test host's manifest beside this tool names it (a bench has no
            // solution-relative folder that the factory's own search would find).
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "MvcTestingAppManifest.json")))!.AsObject();
            var serverRoot = manifest.First(kv => kv.Key.StartsWith("Roto.Server,", StringComparison.Ordinal)).Value!.GetValue<string>();
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_ROTO_SERVER", serverRoot);
            using var factory = new WebApplicationFactory<RotoServer::Program>().WithWebHostBuilder(b =>
            {
                b.UseSetting("Roto:DataDir", Path.Combine(work, "data"));
                b.UseSetting("Roto:ApiKeys:0", Key);
                b.UseSetting("Roto:Limits:RequestsPerMinute", "0");
                b.UseSetting("Logging:LogLevel:Default", "Warning");
            });
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            client.Timeout = TimeSpan.FromMinutes(5);

            var url = await UploadAsync(client, clip);
            var first = new List<double>();
            var later = new List<double>();
            // A warm-up session: the network loads and the JIT compiles outside the measurement.
            await ClickAsync(client, await InitAsync(client, url), 0, [new { x = 0.5, y = 0.5 }]);
            for (var session = 0; session < sessions; session++)
            {
                var sid = await InitAsync(client, url);
                for (var i = 0; i < sequences.Count; i++)
                {
                    using var source = Cv2.ImRead(Path.Combine(root, sequences[i], "masks", "00000.png"), ImreadModes.Grayscale);
                    using var truth = new Mat();
                    Cv2.Resize(source, truth, new Size(1280, 720), 0, 0, InterpolationFlags.Nearest);
                    Cv2.Threshold(truth, truth, 127, 255, ThresholdTypes.Binary);
                    var user = new SimulatedUser(truth, negatives: true);
                    Mat? prediction = null;
                    for (var k = 0; k < 5; k++)
                    {
                        var next = user.NextClick(prediction);
                        if (next == null) break;
                        var point = new { x = (next.Value.Point.X + 0.5) / 1280, y = (next.Value.Point.Y + 0.5) / 720, label = next.Value.Include ? 1 : 0 };
                        var watch = Stopwatch.StartNew();
                        var reply = await ClickAsync(client, sid, i * FramesPerSequence, [point]);
                        (k == 0 ? first : later).Add(watch.Elapsed.TotalMilliseconds);
                        prediction?.Dispose();
                        prediction = DecodePng(reply);
                    }
                    prediction?.Dispose();
                }
            }
            // As a person works: the first click comes a moment after the video opens. Frame 0 has been analysed in
            // the meantime (Roto:WarmFirstFrame); frame 10 has not.
            var afterPause0 = new List<double>();
            var afterPause10 = new List<double>();
            for (var session = 0; session < 6; session++)
            {
                foreach (var (frame, samples) in new[] { (0, afterPause0), (FramesPerSequence, afterPause10) })
                {
                    var sid = await InitAsync(client, url);
                    await Task.Delay(PersonPause);
                    var watch = Stopwatch.StartNew();
                    await ClickAsync(client, sid, frame, [new { x = 0.5, y = 0.6 }]);
                    samples.Add(watch.Elapsed.TotalMilliseconds);
                }
            }
            Console.WriteLine();
            Console.WriteLine("| add-selection over HTTP at 1280×720 | n | p50 ms | p95 ms |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine(Row("first click on a frame", first));
            Console.WriteLine(Row("later clicks on the frame", later));
            Console.WriteLine(Row($"first click on frame 0, {PersonPause.TotalSeconds:0} s after init", afterPause0));
            Console.WriteLine(Row($"first click on frame {FramesPerSequence}, {PersonPause.TotalSeconds:0} s after init", afterPause10));
        }
        finally
        {
            try { Directory.Delete(work, true); } catch (IOException) { }
        }
    }

    private static string Row(string name, List<double> samples) =>
        string.Create(CultureInfo.InvariantCulture, $"| {name} | {samples.Count} | {Latency.Percentile(samples, 0.5):0} | {Latency.Percentile(samples, 0.95):0} |");

    /// <summary>The first frame of each sequence, scaled to 1280×720 and held for a few frames, as a 24 fps H.264 clip.</summary>
    private static string MakeClip(string root, IReadOnlyList<string> sequences, string work)
    {
        var frames = Directory.CreateDirectory(Path.Combine(work, "frames")).FullName;
        var n = 0;
        foreach (var seq in sequences)
            for (var j = 0; j < FramesPerSequence; j++)
                File.Copy(Path.Combine(root, seq, "frames", "00000.jpg"), Path.Combine(frames, $"{n++:D4}.jpg"));
        // The server accepts 2–5 s: pad short lists by holding the last frame.
        var seconds = Math.Max(2.2, n / 24.0);
        var clip = Path.Combine(work, "davis720.mp4");
        TestData.Ffmpeg(["-framerate", "24", "-i", Path.Combine(frames, "%04d.jpg"), "-vf", "scale=1280:720,tpad=stop_mode=clone:stop_duration=3",
            "-t", seconds.ToString("0.00", CultureInfo.InvariantCulture), "-r", "24", "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", clip]);
        return clip;
    }

    private static async Task<string> UploadAsync(HttpClient client, string path)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(path)), "file", Path.GetFileName(path));
        using var response = await client.PostAsync("/v1/uploads", form);
        return Data(await response.Content.ReadAsStringAsync())["url"]!.GetValue<string>();
    }

    private static async Task<string> InitAsync(HttpClient client, string url) =>
        (await PostAsync(client, $"{Base}/init-selection", new { video_id = "", video_url = url }))["session_id"]!.GetValue<string>();

    private static Task<JsonNode> ClickAsync(HttpClient client, string sid, int frame, object[] points) =>
        PostAsync(client, $"{Base}/add-selection", new { session_id = sid, frame_index = frame, points });

    private static async Task<JsonNode> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        return Data(await response.Content.ReadAsStringAsync());
    }

    private static JsonNode Data(string json)
    {
        var body = JsonNode.Parse(json)!;
        if (body["code"]!.GetValue<int>() != 0) throw new InvalidOperationException($"server answered {json}");
        return body["data"]!;
    }

    private static Mat DecodePng(JsonNode data)
    {
        var masks = data["res"]!["rle_mask_list"]!.AsArray();
        if (masks.Count == 0) return new Mat(720, 1280, MatType.CV_8UC1, Scalar.All(0));
        var png = Convert.FromBase64String(masks[0]!["png_mask"]!["base64"]!.GetValue<string>());
        return Cv2.ImDecode(png, ImreadModes.Grayscale);
    }
}
