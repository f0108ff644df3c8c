using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Segmentation;

namespace Roto.Vision.Tests.Segmentation;

/// <summary>One segmenter for the whole class: loading the network takes a second.</summary>
public sealed class SegmenterFixture : IDisposable
{
    public FeatureGraphSegmenter Segmenter { get; } = new();

    public void Dispose() => Segmenter.Dispose();

    public static Mat Frame(string sequence) => Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "frames", "00000.jpg"));

    public static Mat Truth(string sequence)
    {
        var mask = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "masks", "00000.png"), ImreadModes.Grayscale);
        Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
        return mask;
    }

    /// <summary>The point of a region farthest from its edge, as a click (fractions).</summary>
    public static Click Interior(Mat region, bool include = true)
    {
        using var padded = new Mat();
        Cv2.CopyMakeBorder(region, padded, 1, 1, 1, 1, BorderTypes.Constant, Scalar.All(0));
        using var distance = new Mat();
        Cv2.DistanceTransform(padded, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        Cv2.MinMaxLoc(distance, out _, out _, out _, out Point at);
        return new Click((at.X - 1 + 0.5) / region.Width, (at.Y - 1 + 0.5) / region.Height, include);
    }

    public static double Iou(Mat a, Mat b)
    {
        using var inter = new Mat();
        using var union = new Mat();
        Cv2.BitwiseAnd(a, b, inter);
        Cv2.BitwiseOr(a, b, union);
        return (double)Cv2.CountNonZero(inter) / Math.Max(1, Cv2.CountNonZero(union));
    }

    public static byte At(Mat mask, Click click) =>
        mask.At<byte>(Math.Clamp((int)(click.Y * mask.Rows), 0, mask.Rows - 1), Math.Clamp((int)(click.X * mask.Cols), 0, mask.Cols - 1));
}
