using Roto.Vision;
using OpenCvSharp;

namespace Roto.Bench.Selection;

/// <summary>
/// How far the first click's mask moves when the frame changes by about one level per channel (Gaussian noise,
/// σ = 1, rounded), the size of the difference between two decoders or two colour conversions: the IoU between the
/// masks of the clean and the noisy frame, frames 0, 10, 20, 30 and 40 of each sequence.
/// </summary>
public static class NoiseStability
{
    public static void Measure(IClickSegmenter segmenter, string root, IReadOnlyList<string> sequences)
    {
        var ious = new List<double>();
        foreach (var seq in sequences)
        foreach (var index in new[] { 0, 10, 20, 30, 40 })
        {
            if (DavisFrame.Load(root, seq, index) is not { } loaded) continue;
            using var frame = loaded.Frame;
            using var truth = loaded.Truth;
            if (new SimulatedUser(truth, negatives: false).NextClick(null) is not { } first) continue;
            var click = new Click((first.Point.X + 0.5) / frame.Width, (first.Point.Y + 0.5) / frame.Height);
            using var noisy = WithNoise(frame, seed: ious.Count);
            using var clean = segmenter.Segment(new SegmentRequest(frame, [click], null));
            using var moved = segmenter.Segment(new SegmentRequest(noisy, [click], null));
            ious.Add(SimulatedUser.Iou(moved, clean));
        }
        Console.WriteLine(FormattableString.Invariant(
            $"first click, clean frame against ±1 noise: mean IoU {ious.Average():0.000}, median {ious.Order().ElementAt(ious.Count / 2):0.000}, below 0.95 {ious.Count(v => v < 0.95)} of {ious.Count}, least {ious.Min():0.000}"));
    }

    private static Mat WithNoise(Mat frame, int seed)
    {
        Cv2.SetTheRNG((ulong)(20261202 + seed));
        using var noise = new Mat(frame.Size(), MatType.CV_16SC3);
        Cv2.Randn(noise, Scalar.All(0), Scalar.All(1.0));
        using var wide = new Mat();
        frame.ConvertTo(wide, MatType.CV_16SC3);
        Cv2.Add(wide, noise, wide);
        var noisy = new Mat();
        wide.ConvertTo(noisy, MatType.CV_8UC3);
        return noisy;
    }
}
