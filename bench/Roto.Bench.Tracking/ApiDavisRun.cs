using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;
using Roto.Masks;
using Roto.Vision;

namespace Roto.Bench.Tracking;

/// <summary>
/// The tracking bar as a client meets it: each davis16-dev sequence is uploaded to a Roto server (Release build, child
/// process), and init-selection, add-selection (the sequence's first click on frame 0) and preview-selection are called
/// back to back; the returned tracking_output is scored by the DAVIS protocol (`click1`). Then two correction clicks,
/// each on the worst unmarked frame of the last preview and each followed by a preview, as the in-process `clicks3`
/// does (`clicks3`). Every call is timed, so the preview's quality is the one its time budget allows on this machine.
/// </summary>
internal static class ApiDavisRun
{
    public static void Run(string serverDll, string cacheDir, IReadOnlySet<string> only, IEnumerable<string> serverArgs)
    {
        var args = serverArgs.ToList();
        using var server = new ServerRun.ServerProcess(serverDll, args);
        var http = server.Http;
        Console.WriteLine($"\n## click1 and clicks3 through the API (server pid {server.Pid}{(args.Count > 0 ? ", " + string.Join(' ', args) : "")}, load {ServerRun.Load()})\n");
        Console.WriteLine($"health: {http.GetStringAsync("/health").GetAwaiter().GetResult()}\n");
        Console.WriteLine("| sequence | frames | init s | add s | preview s | click1 J&F | correction adds s | correction previews s | clicks3 J&F |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        var rows = new List<(double Click1, double Clicks3, double Preview)>();
        foreach (var name in DavisSequence.Names().Where(n => only.Count == 0 || only.Contains(n)))
        {
            var seq = DavisSequence.Open(name, cacheDir);
            var url = ServerRun.Upload(http, seq.Video.Path);
            var sw = Stopwatch.StartNew();
            var session = ServerRun.Call(http, "init-selection", new { video_url = url }).GetProperty("session_id").GetString()!;
            var init = sw.Elapsed.TotalSeconds;
            var click = DavisRun.FirstClick(name);
            sw.Restart();
            ServerRun.Call(http, "add-selection", new { session_id = session, frame_index = 0, points = new[] { new { x = click.X, y = click.Y } } });
            var add = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var masks = PreviewMasks(http, session);
            var preview = sw.Elapsed.TotalSeconds;
            var click1 = DavisRun.Score(seq, masks, 1);
            var scored = click1;
            var marked = new HashSet<int> { 0 };
            var adds = new List<double>();
            var previews = new List<double>();
            for (var extra = 0; extra < 2; extra++)
            {
                var frame = DavisRun.WorstUnmarkedFrame(scored, marked);
                if (frame < 0) break;
                using var truth = seq.GroundTruth(frame);
                if (DavisRun.CorrectionClick(masks[frame], truth) is not { } point) break;
                marked.Add(frame);
                if (Environment.GetEnvironmentVariable("ROTO_BENCH_VERBOSE") == "1")
                    Console.Error.WriteLine($"{name}: correction on frame {frame} at {point.X * truth.Width:F0},{point.Y * truth.Height:F0}: the preview's mask there IoU {Roto.Baselines.DavisMetrics.Jaccard(masks[frame], truth):F3}");
                sw.Restart();
                var added = ServerRun.Call(http, "add-selection", new { session_id = session, frame_index = frame, points = new[] { new { x = point.X, y = point.Y } } });
                adds.Add(sw.Elapsed.TotalSeconds);
                if (Environment.GetEnvironmentVariable("ROTO_BENCH_VERBOSE") == "1")
                {
                    var counts = added.GetProperty("res").GetProperty("rle_mask_list")[0].GetProperty("rle_mask").GetProperty("counts").GetString()!;
                    using var corrected = MaskMats.ToMat(CocoRle.Decode(truth.Height, truth.Width, counts));
                    Console.Error.WriteLine($"{name}: corrected mask on frame {frame} IoU {Roto.Baselines.DavisMetrics.Jaccard(corrected, truth):F3}");
                }
                foreach (var m in masks) m.Dispose();
                sw.Restart();
                masks = PreviewMasks(http, session);
                previews.Add(sw.Elapsed.TotalSeconds);
                scored = DavisRun.Score(seq, masks, 1 + marked.Count - 1);
            }
            foreach (var m in masks) m.Dispose();
            var (j1, j3) = (Mean(click1), Mean(scored));
            rows.Add((j1, j3, preview));
            Console.WriteLine($"| {name} | {seq.FrameCount} | {init:F2} | {add:F2} | {preview:F2} | {j1:F3} | {string.Join(" / ", adds.Select(a => a.ToString("F2")))} | {string.Join(" / ", previews.Select(p => p.ToString("F2")))} | {j3:F3} |");
        }
        Console.WriteLine($"| **mean** | | | | {rows.Average(r => r.Preview):F2} | **{rows.Average(r => r.Click1):F3}** | | | **{rows.Average(r => r.Clicks3):F3}** |");
        Console.WriteLine($"\nload {ServerRun.Load()}; server lifetime VmHWM {server.Memory.HighWaterMiB()} MiB");
    }

    private static double Mean(DavisRun.Result r) => (r.J.Average() + r.F.Average()) / 2;

    /// <summary>Calls preview-selection and reads every frame's mask (all elements together) from its tracking_output.</summary>
    private static List<Mat> PreviewMasks(HttpClient http, string session)
    {
        var res = ServerRun.Call(http, "preview-selection", new { session_id = session }).GetProperty("res");
        var json = http.GetStringAsync(res.GetProperty("tracking_output").GetString()!).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var (width, height) = (root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32());
        var masks = new List<Mat>();
        foreach (var frame in root.GetProperty("frames").EnumerateArray())
        {
            var union = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
            foreach (var m in frame.GetProperty("rle_mask_list").EnumerateArray())
            {
                using var mask = MaskMats.ToMat(CocoRle.Decode(height, width, m.GetProperty("rle_mask").GetProperty("counts").GetString()!));
                Cv2.BitwiseOr(union, mask, union);
            }
            masks.Add(union);
        }
        return masks;
    }
}
