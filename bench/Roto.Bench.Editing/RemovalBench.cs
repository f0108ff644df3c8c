using System.Diagnostics;
using OpenCvSharp;
using Roto.Baselines;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Removal;

namespace Roto.Bench.Editing;

/// <summary>Roto's remover, per-frame Telea and ffmpeg delogo on the same composites, scored against the truth.</summary>
public static class RemovalBench
{
    public static readonly (string Element, string Background)[] Pairs =
    [
        ("dance-twirl", "01_dog.mp4"),
        ("libby", "03_blocks.mp4"),
        ("horsejump-high", "bigbuckbunny.mp4"),
        ("car-shadow", "bedroom.mp4"),
        ("breakdance", "bees.mp4"),
        ("bmx-trees", "05_default_juggle.mp4"),
    ];

    /// <summary>
    /// How far the true mask is grown into the scored region (and into the hole Telea is given): 1.3 % of the shorter
    /// side, fixed here so that the score does not move when the remover's own hole margin does.
    /// </summary>
    private static int RegionRadius(int width, int height) => Math.Max(3, (int)Math.Round(Math.Min(width, height) * 0.013));

    public static void Run(MediaTools tools, int maxFrames, string outDir, string? only = null, bool alignLocally = false, double trust = FlowGuidedRemover.DefaultTrustThreshold, int radius = FlowGuidedRemover.DefaultMaxRadius,
        double stale = CarriedInpaint.DefaultStaleAfter, RotoServer? server = null)
    {
        var rows = new List<(string Name, string Method, Scores S, double Seconds)>();
        foreach (var (element, background) in Pairs.Where(p => only == null || only.Split(',').Contains(p.Element)))
        {
            using var comp = Composite.Build(tools, TestData.Davis(element), TestData.Clip(background), maxFrames);
            var tmp = TestData.TempDir("roto-bench-edit");
            try
            {
                var video = LosslessVideo.Write(tools, Path.Combine(tmp, "composite.mkv"), comp.Frames, new FrameRate(25, 1));
                var regionRadius = RegionRadius(video.Width, video.Height);
                using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * regionRadius + 1, 2 * regionRadius + 1));
                var regions = comp.Masks.Select(m => { var d = new Mat(); Cv2.Dilate(m, d, kernel); return d; }).ToList();

                var sw = Stopwatch.StartNew();
                var roto = new List<Mat>();
                using (var track = new InMemoryMaskTrack(comp.Masks.Select(m => m.Clone()).ToList()))
                    new FlowGuidedRemover { AlignLocally = alignLocally, TrustThreshold = trust, MaxRadius = radius, StaleAfter = stale }.Remove(video, track, (_, f) => roto.Add(f.Clone()), null, CancellationToken.None);
                var rotoSeconds = sw.Elapsed.TotalSeconds;

                sw.Restart();
                var telea = comp.Frames.Select((f, i) => { var o = new Mat(); Cv2.Inpaint(f, regions[i], o, 5, InpaintTypes.Telea); return o; }).ToList();
                var teleaSeconds = sw.Elapsed.TotalSeconds;

                sw.Restart();
                var box = UnionBox(comp.Masks, video.Width, video.Height);
                var delogo = LosslessVideo.Filter(video, $"delogo=x={box.X}:y={box.Y}:w={box.Width}:h={box.Height}", Path.Combine(tmp, "delogo.mkv"));
                var delogoSeconds = sw.Elapsed.TotalSeconds;

                // End to end: the composite uploaded to the server, one click where a person would put it (the point of
                // the frame-0 true mask farthest from its edge), a removal task that tracks the click itself, the result
                // downloaded (so the server's H.264 normalisation and result encode are part of the score).
                var api = new List<Mat>();
                var apiSeconds = 0.0;
                if (server != null)
                {
                    sw.Restart();
                    var resultPath = Path.Combine(tmp, "api.mp4");
                    // The click's mask as the server answered it: where a removal loses, this says whether the first mask did.
                    var firstJ = double.NaN;
                    ApiBench.Removal(server, server.Upload(video.Path), ApiBench.InteriorClick(comp.Masks[0]), previewFirst: false, downloadTo: resultPath,
                        firstMask: m => firstJ = DavisMetrics.Jaccard(m, comp.Masks[0]));
                    Console.WriteLine($"{comp.Name,-34} roto-api first click's mask J {firstJ:F3}");
                    using (var reader = new VideoFrameReader(tools, resultPath, video.Width, video.Height)) api.AddRange(reader.Frames());
                    apiSeconds = sw.Elapsed.TotalSeconds;
                }

                var before = rows.Count;
                rows.Add((comp.Name, "roto", Metrics.Score(roto, comp.Truth, regions), rotoSeconds));
                rows.Add((comp.Name, "telea", Metrics.Score(telea, comp.Truth, regions), teleaSeconds));
                rows.Add((comp.Name, "delogo", Metrics.Score(delogo, comp.Truth, regions), delogoSeconds));
                if (server != null) rows.Add((comp.Name, "roto-api", Metrics.Score(api, comp.Truth, regions), apiSeconds));
                foreach (var r in rows.Skip(before)) Print(r);

                List<(string, IReadOnlyList<Mat>)> sheet = [("composite", comp.Frames), ("roto", roto), ("telea", telea), ("delogo", delogo)];
                if (server != null) sheet.Add(("roto api (1 click)", api));
                sheet.Add(("truth", comp.Truth));
                ContactSheet.Save(Path.Combine(outDir, $"removal-composite-{element}.png"), sheet,
                        [0, comp.Frames.Count / 3, 2 * comp.Frames.Count / 3, comp.Frames.Count - 1]);
                foreach (var m in roto.Concat(telea).Concat(delogo).Concat(api).Concat(regions)) m.Dispose();
            }
            finally
            {
                Directory.Delete(tmp, true);
            }
        }

        Console.WriteLine();
        if (server != null) Console.WriteLine("roto-api: through the HTTP API (server with Roto:Limits:Profile=relaxed, as the composites are 854x480 FFV1), one click, tracked by the server, scored on the downloaded H.264 result");
        Console.WriteLine("| method | PSNR region (dB) | SSIM region | PSNR frame (dB) | SSIM frame | flicker (truth) | seconds |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var g in rows.GroupBy(r => r.Method))
            Console.WriteLine($"| {g.Key} | {g.Average(r => r.S.PsnrRegion):F2} | {g.Average(r => r.S.SsimRegion):F3} | {g.Average(r => r.S.PsnrFrame):F2} | " +
                              $"{g.Average(r => r.S.SsimFrame):F3} | {g.Average(r => r.S.Flicker):F2} ({g.Average(r => r.S.TruthFlicker):F2}) | {g.Sum(r => r.Seconds):F1} |");
    }

    private static void Print((string Name, string Method, Scores S, double Seconds) r) =>
        Console.WriteLine($"{r.Name,-34} {r.Method,-7} PSNRr {r.S.PsnrRegion,6:F2}  SSIMr {r.S.SsimRegion:F3}  PSNRf {r.S.PsnrFrame,6:F2}  " +
                          $"SSIMf {r.S.SsimFrame:F3}  flicker {r.S.Flicker,5:F2} (truth {r.S.TruthFlicker:F2})  {r.Seconds:F1}s");

    /// <summary>The box delogo is given: the union of every frame's mask, kept one pixel inside the frame as delogo requires.</summary>
    private static Rect UnionBox(IReadOnlyList<Mat> masks, int w, int h)
    {
        var box = masks.Select(m => Cv2.BoundingRect(m)).Where(r => r.Width > 0).Aggregate((a, b) => a | b);
        var x0 = Math.Max(1, box.X);
        var y0 = Math.Max(1, box.Y);
        var x1 = Math.Min(w - 2, box.Right);
        var y1 = Math.Min(h - 2, box.Bottom);
        return new Rect(x0, y0, x1 - x0, y1 - y0);
    }
}
