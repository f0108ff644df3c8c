using System.Diagnostics;
using OpenCvSharp;
using Roto.Baselines;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Features;
using Roto.Vision.Learned;
using Roto.Vision.Propagation;

namespace Roto.Bench.Editing;

/// <summary>
/// The track a removal task builds from one click on each removal composite, as the server builds it (the SAM engine's
/// click and a task's full-quality track), scored against the pasted element's true masks: where the one-click removal
/// loses, this says whether the mask did. Needs the SAM models (scripts/models.sh).
/// </summary>
public static class TrackBench
{
    public static void Run(MediaTools tools, int maxFrames, string outDir, string? only)
    {
        using var models = SamModels.Load(SamModelFiles.In(ModelsDir.Resolve(null)))
                           ?? throw new InvalidOperationException("the SAM models are missing: run scripts/models.sh");
        var segmenter = new SamClickSegmenter(models);
        var anchor = new SamTrackAnchor(models);
        anchor.Load();
        var propagator = new FlowColourPropagator { Anchor = anchor, WorkingWidth = SamTrackAnchor.WorkingWidth, TaskFeatures = FrameFeatures.ForTracking() };
        if (Environment.GetEnvironmentVariable("ROTO_BENCH_CHOICE") == "1") { FirstClickChoices(tools, maxFrames, models, only); return; }
        Console.WriteLine("| composite | frames | J frame 0 | J mean | J min (frame) | area / truth, mean | seconds |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var means = new List<double>();
        foreach (var (element, background) in RemovalBench.Pairs.Where(p => only == null || only.Split(',').Contains(p.Element)))
        {
            using var comp = Composite.Build(tools, TestData.Davis(element), TestData.Clip(background), maxFrames);
            var tmp = TestData.TempDir("roto-bench-track");
            try
            {
                var video = LosslessVideo.Write(tools, Path.Combine(tmp, "composite.mkv"), comp.Frames, new FrameRate(25, 1));
                var sw = Stopwatch.StartNew();
                using var first = segmenter.Segment(new SegmentRequest(comp.Frames[0], [ApiBench.InteriorClick(comp.Masks[0])], null, Later: comp.Frames[Math.Min(3, comp.Frames.Count - 1)]));
                var j = new List<double>();
                var ratio = new List<double>();
                propagator.Propagate(video, [new Keyframe(0, 1, first)], (i, frame, masks) =>
                {
                    using var none = new Mat(video.Height, video.Width, MatType.CV_8UC1, Scalar.All(0));
                    var mask = masks.TryGetValue(1, out var m) ? m : none;
                    j.Add(DavisMetrics.Jaccard(mask, comp.Masks[i]));
                    ratio.Add(Cv2.CountNonZero(mask) / Math.Max(1.0, Cv2.CountNonZero(comp.Masks[i])));
                    if (i % 10 == 0 && Environment.GetEnvironmentVariable("ROTO_BENCH_DUMP") == "1")
                    {
                        using var view = frame.Clone();
                        using var edges = new Mat();
                        Cv2.Canny(mask, edges, 50, 150);
                        view.SetTo(new Scalar(0, 0, 255), edges);
                        Cv2.Canny(comp.Masks[i], edges, 50, 150);
                        view.SetTo(new Scalar(0, 255, 0), edges);
                        Cv2.ImWrite(Path.Combine(outDir, $"track-{element}-{i:D3}.jpg"), view);
                    }
                }, null, TrackingEffort.Full, CancellationToken.None);
                var worst = j.IndexOf(j.Min());
                means.Add(j.Average());
                Console.WriteLine($"| {comp.Name} | {j.Count} | {j[0]:F3} | {j.Average():F3} | {j[worst]:F3} ({worst}) | {ratio.Average():F2} | {sw.Elapsed.TotalSeconds:F1} |");
            }
            finally
            {
                Directory.Delete(tmp, true);
            }
        }
        Console.WriteLine($"| **mean** | | | **{means.Average():F3}** | | | |");
    }

    private static void FirstClickChoices(MediaTools tools, int maxFrames, SamModels models, string? only)
    {
        (string Name, SamSegmenterOptions Options)[] variants =
        [
            ("served", new SamSegmenterOptions()),
            ("no motion", new SamSegmenterOptions { MotionWeight = 0 }),
            ("still 0.7", new SamSegmenterOptions { StillShare = 0.7 }),
            ("gain 0", new SamSegmenterOptions { CutShareGain = 0 }),
            ("no still", new SamSegmenterOptions { StillShare = 0 }),
            ("no cue floor", new SamSegmenterOptions { MinCueRegion = 0 }),
        ];
        foreach (var (element, background) in RemovalBench.Pairs.Where(p => only == null || only.Split(',').Contains(p.Element)))
        {
            using var comp = Composite.Build(tools, TestData.Davis(element), TestData.Clip(background), Math.Min(maxFrames, 4));
            var click = ApiBench.InteriorClick(comp.Masks[0]);
            var line = $"{comp.Name,-34}";
            foreach (var (name, options) in variants)
            {
                using var mask = new SamClickSegmenter(models, options).Segment(new SegmentRequest(comp.Frames[0], [click], null, Later: comp.Frames[3]));
                line += $"  {name} {DavisMetrics.Jaccard(mask, comp.Masks[0]):F3}";
            }
            Console.WriteLine(line);
            using (var moving = MovingRegion.Moving(comp.Frames[0], comp.Frames[3], comp.Frames[0].Size()))
            {
                Console.WriteLine($"    moving share {Cv2.CountNonZero(moving) / (double)(moving.Width * moving.Height):F2}, at the click {moving.At<byte>((int)(click.Y * moving.Height), (int)(click.X * moving.Width))}, J to truth {DavisMetrics.Jaccard(moving, comp.Masks[0]):F3}");
                using var view = comp.Frames[0].Clone();
                view.SetTo(new Scalar(255, 0, 255), moving);
                Cv2.ImWrite(Path.Combine("bench", "out", $"moving-{element}.png"), view);
            }
            // Every candidate the first click can get, against the truth: what a perfect choice would reach.
            var frame = comp.Frames[0];
            var embedding = models.Encoder.Encode(frame);
            using var saliency = models.Saliency.Predict(frame, frame.Size());
            var point = new PromptPoint((float)(click.X * frame.Width), (float)(click.Y * frame.Height), 1);
            var index = 0;
            foreach (var c in models.Decoder.Decode(embedding, [point], null, frame.Size(), allMasks: true))
            {
                using var m = c.Binary();
                using (var view = frame.Clone())
                {
                    view.SetTo(new Scalar(255, 0, 255), m);
                    Cv2.ImWrite(Path.Combine("bench", "out", $"candidate-{element}-{index++}.png"), view);
                }
                using var sal = new Mat();
                Cv2.Threshold(saliency, sal, 0.5, 255, ThresholdTypes.Binary);
                sal.ConvertTo(sal, MatType.CV_8UC1);
                Console.WriteLine($"    candidate J {DavisMetrics.Jaccard(m, comp.Masks[0]):F3} est {c.PredictedIou:F3} stab {c.Stability():F3} sal {MaskMats.Iou(m, sal):F3} area {Cv2.CountNonZero(m) / (double)Cv2.CountNonZero(comp.Masks[0]):F2}");
                c.Dispose();
            }
        }
    }
}
