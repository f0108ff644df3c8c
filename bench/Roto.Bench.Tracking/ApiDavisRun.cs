using System.Diagnostics;
using OpenCvSharp;
using Roto.Baselines;
using Roto.Client;
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
    public static async Task RunAsync(string serverDll, string cacheDir, IReadOnlySet<string> only, IEnumerable<string> serverArgs)
    {
        var args = serverArgs.ToList();
        var verbose = Environment.GetEnvironmentVariable("ROTO_BENCH_VERBOSE") == "1";
        using var server = new ServerRun.ServerProcess(serverDll, args);
        // The project's own SDK, as a client application would call the server.
        using var client = RotoClient.Create(new RotoClientOptions { BaseUrl = server.Http.BaseAddress!, ApiKey = ServerRun.Key });
        Console.WriteLine($"\n## click1 and clicks3 through the API (server pid {server.Pid}{(args.Count > 0 ? ", " + string.Join(' ', args) : "")}, load {ServerRun.Load()})\n");
        Console.WriteLine($"health: {await server.Http.GetStringAsync("/health")}\n");
        Console.WriteLine("| sequence | frames | init s | add s | preview s | click1 J&F | correction adds s | correction previews s | clicks3 J&F |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        var rows = new List<(double Click1, double Clicks3, double Preview)>();
        foreach (var name in DavisSequence.Names().Where(n => only.Count == 0 || only.Contains(n)))
        {
            var seq = DavisSequence.Open(name, cacheDir);
            var url = (await client.UploadFileAsync(seq.Video.Path)).Url;
            var sw = Stopwatch.StartNew();
            var session = (await client.InitSelectionAsync(url)).SessionId;
            var init = sw.Elapsed.TotalSeconds;
            var click = DavisRun.FirstClick(name);
            sw.Restart();
            await client.AddSelectionAsync(new SelectionRequest { SessionId = session, FrameIndex = 0, Points = [new SelectionPoint(click.X, click.Y)] });
            var add = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var masks = await PreviewMasksAsync(client, session);
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
                sw.Restart();
                var added = await client.AddSelectionAsync(new SelectionRequest { SessionId = session, FrameIndex = frame, Points = [new SelectionPoint(point.X, point.Y)] });
                adds.Add(sw.Elapsed.TotalSeconds);
                if (verbose)
                {
                    using var corrected = Union(added.Res!.RleMaskList, truth.Height, truth.Width);
                    Console.Error.WriteLine($"{name}: correction on frame {frame} at {point.X * truth.Width:F0},{point.Y * truth.Height:F0}: the preview's mask there IoU {DavisMetrics.Jaccard(masks[frame], truth):F3}, corrected {DavisMetrics.Jaccard(corrected, truth):F3}");
                }
                foreach (var m in masks) m.Dispose();
                sw.Restart();
                masks = await PreviewMasksAsync(client, session);
                previews.Add(sw.Elapsed.TotalSeconds);
                scored = DavisRun.Score(seq, masks, marked.Count);
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
    private static async Task<List<Mat>> PreviewMasksAsync(RotoClient client, string session)
    {
        var preview = await client.PreviewSelectionAsync(session);
        var track = await client.GetTrackingOutputAsync(preview.Res!.TrackingOutput!);
        return track.Frames.Select(f => Union(f.RleMaskList, track.Height, track.Width)).ToList();
    }

    private static Mat Union(IEnumerable<ObjectMask> objects, int height, int width)
    {
        var union = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        foreach (var o in objects)
        {
            using var mask = MaskMats.ToMat(CocoRle.Decode(height, width, o.RleMask!.Counts));
            Cv2.BitwiseOr(union, mask, union);
        }
        return union;
    }
}
