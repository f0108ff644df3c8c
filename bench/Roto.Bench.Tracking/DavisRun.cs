using OpenCvSharp;
using Roto.Baselines;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;

namespace Roto.Bench.Tracking;

/// <summary>Runs one benchmark mode on one sequence and scores frames 1 … N−2 by the DAVIS protocol.</summary>
internal static class DavisRun
{
    public sealed record Result(List<double> J, List<double> F, int Clicks);

    public static Result Run(DavisSequence seq, string mode, IMaskPropagator propagator, IClickSegmenter segmenter, TrackingEffort effort = TrackingEffort.Preview)
    {
        var keyframes = new List<Keyframe>();
        try
        {
            if (mode == "mask")
            {
                keyframes.Add(new Keyframe(0, 1, seq.GroundTruth(0)));
                return Score(seq, Propagate(seq, propagator, keyframes, effort), 0);
            }
            var click = FirstClick(seq.Name);
            var clicksByFrame = new Dictionary<int, List<Click>> { [0] = [click] };
            keyframes.Add(new Keyframe(0, 1, Segment(seq, 0, clicksByFrame[0], segmenter)));
            var masks = Propagate(seq, propagator, keyframes, effort);
            var clicks = 1;
            if (mode == "clicks3")
            {
                for (var extra = 0; extra < 2; extra++)
                {
                    var scored = Score(seq, masks, clicks);
                    var frame = WorstUnmarkedFrame(scored, keyframes);
                    if (frame < 0) break;
                    using var truth = seq.GroundTruth(frame);
                    var point = CorrectionClick(masks[frame], truth);
                    if (point == null) break;
                    clicks++;
                    clicksByFrame[frame] = [point.Value];
                    // As the server does: a click on a frame that was not marked corrects what the preview showed there.
                    keyframes.Add(new Keyframe(frame, 1, Segment(seq, frame, clicksByFrame[frame], segmenter, masks[frame])));
                    if (Environment.GetEnvironmentVariable("ROTO_BENCH_VERBOSE") == "1")
                        Console.Error.WriteLine($"{seq.Name}: correction on frame {frame} at {point.Value.X * truth.Width:F0},{point.Value.Y * truth.Height:F0}: the track's mask there IoU {DavisMetrics.Jaccard(masks[frame], truth):F3}, corrected {DavisMetrics.Jaccard(keyframes[^1].Mask, truth):F3}");
                    foreach (var m in masks) m.Dispose();
                    masks = Propagate(seq, propagator, keyframes, effort);
                }
            }
            else if (mode != "click1") throw new ArgumentException($"unknown mode {mode}");
            return Score(seq, masks, clicks);
        }
        finally
        {
            foreach (var k in keyframes) k.Mask.Dispose();
        }
    }

    internal static Click FirstClick(string sequence)
    {
        var row = File.ReadAllLines(Path.Combine(TestData.Dir, "davis16-dev", "clicks_frame0.csv")).Skip(1)
            .Select(l => l.Split(',')).Single(f => f[0] == sequence);
        using var gt = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "masks", "00000.png"), ImreadModes.Grayscale);
        return new Click(double.Parse(row[2]) / gt.Width, double.Parse(row[3]) / gt.Height);
    }

    private static Mat Segment(DavisSequence seq, int frame, List<Click> clicks, IClickSegmenter segmenter, Mat? prior = null)
    {
        using var image = FrameImage(seq, frame);
        // As the server gives every click (SessionService.LaterIndex): the frame the segmenter's motion cue compares
        // with, that many frames on, or as many back where the clip ends first.
        var offset = segmenter.LaterFrames;
        var laterIndex = frame + offset < seq.FrameCount ? frame + offset : Math.Max(0, frame - offset);
        using var later = offset > 0 && laterIndex != frame ? FrameImage(seq, laterIndex) : null;
        return segmenter.Segment(new SegmentRequest(image, clicks, null, prior, later));
    }

    /// <summary>
    /// The frame as the server's clicks see it: decoded from the sequence's video (FrameGrabber), not read from its
    /// JPEG. The difference is small (about 1.5 levels a channel) but the decoder's choice among its masks can turn on
    /// it: drift-chicane frame 5, one click on the car, IoU 0.845 on the JPEG and 0.558 on the decoded frame.
    /// </summary>
    private static Mat FrameImage(DavisSequence seq, int frame) => FrameGrabber.ReadAsync(seq.Video, frame).GetAwaiter().GetResult();

    private static List<Mat> Propagate(DavisSequence seq, IMaskPropagator propagator, List<Keyframe> keyframes, TrackingEffort effort)
    {
        var masks = new List<Mat>();
        propagator.Propagate(seq.Video, keyframes, (i, _, m) =>
        {
            if (i != masks.Count) throw new InvalidOperationException("frames out of order");
            masks.Add(m.TryGetValue(1, out var mask) ? mask.Clone() : new Mat(seq.Video.Height, seq.Video.Width, MatType.CV_8UC1, Scalar.All(0)));
        }, null, effort, CancellationToken.None);
        if (masks.Count != seq.FrameCount) throw new InvalidOperationException($"{masks.Count} masks for {seq.FrameCount} frames");
        return masks;
    }

    internal static Result Score(DavisSequence seq, List<Mat> masks, int clicks)
    {
        var j = new List<double>();
        var f = new List<double>();
        for (var t = 1; t < seq.FrameCount - 1; t++)
        {
            using var truth = seq.GroundTruth(t);
            j.Add(DavisMetrics.Jaccard(masks[t], truth));
            f.Add(DavisMetrics.BoundaryF(masks[t], truth));
            if (Environment.GetEnvironmentVariable("ROTO_BENCH_VERBOSE") == "1")
            {
                Console.Error.WriteLine($"{seq.Name} {t}: J {j[^1]:F3} area {Cv2.CountNonZero(masks[t])} truth {Cv2.CountNonZero(truth)}");
                if (Environment.GetEnvironmentVariable("ROTO_BENCH_DUMP") is { } dump && t % 10 == 0)
                {
                    using var image = Cv2.ImRead(Path.Combine(TestData.Davis(seq.Name), "frames", $"{t:D5}.jpg"));
                    using var edges = new Mat();
                    Cv2.Canny(masks[t], edges, 50, 150);
                    image.SetTo(new Scalar(0, 0, 255), edges);
                    Cv2.Canny(truth, edges, 50, 150);
                    image.SetTo(new Scalar(0, 255, 0), edges);
                    Cv2.Resize(image, image, new Size(image.Width / 2, image.Height / 2));
                    Directory.CreateDirectory(dump);
                    Cv2.ImWrite(Path.Combine(dump, $"{seq.Name}-{t:D3}.png"), image);
                }
            }
        }
        return new Result(j, f, clicks);
    }

    /// <summary>The scored frame with the lowest J&amp;F that is not marked yet, or −1.</summary>
    private static int WorstUnmarkedFrame(Result scored, List<Keyframe> keyframes) =>
        WorstUnmarkedFrame(scored, keyframes.Select(k => k.FrameIndex).ToHashSet());

    internal static int WorstUnmarkedFrame(Result scored, IReadOnlySet<int> marked)
    {
        var best = -1;
        var worst = double.MaxValue;
        for (var i = 0; i < scored.J.Count; i++)
        {
            var frame = i + 1;
            var score = (scored.J[i] + scored.F[i]) / 2;
            if (!marked.Contains(frame) && score < worst) (worst, best) = (score, frame);
        }
        return best;
    }

    /// <summary>A positive click at the interior point farthest from the edge of the largest missed region (ground truth not covered).</summary>
    internal static Click? CorrectionClick(Mat prediction, Mat truth)
    {
        using var missed = new Mat();
        using var notPredicted = new Mat();
        Cv2.BitwiseNot(prediction, notPredicted);
        using var truthBinary = new Mat();
        Cv2.Threshold(truth, truthBinary, 0, 255, ThresholdTypes.Binary);
        Cv2.BitwiseAnd(truthBinary, notPredicted, missed);
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(missed, labels, stats, centroids);
        if (count < 2) return null;
        var largest = Enumerable.Range(1, count - 1).MaxBy(i => stats.At<int>(i, (int)ConnectedComponentsTypes.Area));
        using var region = labels.InRange(largest, largest);
        // Pad so the image border counts as an edge of the region too.
        using var padded = new Mat();
        Cv2.CopyMakeBorder(region, padded, 1, 1, 1, 1, BorderTypes.Constant, Scalar.All(0));
        using var distance = new Mat();
        Cv2.DistanceTransform(padded, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        Cv2.MinMaxLoc(distance, out _, out _, out _, out Point at);
        return new Click((at.X - 1 + 0.5) / truth.Width, (at.Y - 1 + 0.5) / truth.Height);
    }
}
