using OpenCvSharp;
using Roto.Vision;

namespace Roto.Bench.Selection;

/// <summary>
/// The usual interactive-segmentation user: first click at the ground truth's most interior point, then each click at
/// the most interior point of the largest error region, positive on a missed region and (with negatives) negative on
/// a false one.
/// </summary>
public sealed class SimulatedUser(Mat groundTruth, bool negatives)
{
    public Point FirstClick { get; private set; }

    /// <summary>When set, overlays of the first clicks' masks are written here.</summary>
    public static string? DumpDir { get; set; }

    private void Dump(Mat frame, Mat prediction, IReadOnlyList<Click> clicks, string path)
    {
        using var overlay = frame.Clone();
        using var tint = new Mat(frame.Size(), frame.Type(), new Scalar(0, 0, 255));
        using var blended = new Mat();
        Cv2.AddWeighted(frame, 0.5, tint, 0.5, 0, blended);
        blended.CopyTo(overlay, prediction);
        Cv2.FindContours(groundTruth, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        Cv2.DrawContours(overlay, contours, -1, new Scalar(0, 255, 0), 2);
        foreach (var c in clicks)
            Cv2.Circle(overlay, new Point(c.X * frame.Width, c.Y * frame.Height), 6, c.Include ? new Scalar(255, 255, 0) : new Scalar(255, 0, 255), -1);
        Cv2.ImWrite(path, overlay);
    }

    public double[] Run(IClickSegmenter segmenter, Mat frame, string cacheKey, int maxClicks, Mat? later = null)
    {
        var ious = new double[maxClicks];
        var clicks = new List<Click>();
        Mat? prediction = null;
        try
        {
            for (var k = 0; k < maxClicks; k++)
            {
                var next = NextClick(prediction);
                if (next == null)
                {
                    ious[k] = ious[Math.Max(0, k - 1)];
                    continue;
                }
                if (k == 0) FirstClick = next.Value.Point;
                clicks.Add(new Click((next.Value.Point.X + 0.5) / frame.Width, (next.Value.Point.Y + 0.5) / frame.Height, next.Value.Include));
                prediction?.Dispose();
                prediction = segmenter.Segment(new SegmentRequest(frame, clicks, cacheKey, Later: later));
                ious[k] = Iou(prediction, groundTruth);
                if (DumpDir != null && k < 5) Dump(frame, prediction, clicks, Path.Combine(DumpDir, $"{cacheKey.Replace('/', '_')}_{k + 1}.jpg"));
            }
        }
        finally
        {
            prediction?.Dispose();
        }
        return ious;
    }

    public (Point Point, bool Include)? NextClick(Mat? prediction)
    {
        if (prediction == null) return (Interior(groundTruth).Point, true);
        using var missed = new Mat();
        using var notPredicted = new Mat();
        Cv2.BitwiseNot(prediction, notPredicted);
        Cv2.BitwiseAnd(groundTruth, notPredicted, missed);
        var best = LargestRegion(missed);
        var include = true;
        if (negatives)
        {
            using var notTruth = new Mat();
            using var extra = new Mat();
            Cv2.BitwiseNot(groundTruth, notTruth);
            Cv2.BitwiseAnd(prediction, notTruth, extra);
            var falseRegion = LargestRegion(extra);
            if (falseRegion != null && (best == null || falseRegion.Value.Area > best.Value.Area))
            {
                best = falseRegion;
                include = false;
            }
        }
        return best == null ? null : (best.Value.Point, include);
    }

    /// <summary>The largest connected error region (by area) and its most interior point.</summary>
    private static (Point Point, int Area)? LargestRegion(Mat errors)
    {
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(errors, labels, stats, centroids, PixelConnectivity.Connectivity8);
        if (count <= 1) return null;
        var largest = 1;
        for (var i = 2; i < count; i++)
            if (stats.At<int>(i, (int)ConnectedComponentsTypes.Area) > stats.At<int>(largest, (int)ConnectedComponentsTypes.Area)) largest = i;
        using var region = new Mat();
        Cv2.Compare(labels, Scalar.All(largest), region, CmpTypes.EQ);
        return (Interior(region).Point, stats.At<int>(largest, (int)ConnectedComponentsTypes.Area));
    }

    /// <summary>The point farthest from the region's edge (the frame's edge counts as an edge).</summary>
    public static (Point Point, double Distance) Interior(Mat region)
    {
        using var padded = new Mat();
        Cv2.CopyMakeBorder(region, padded, 1, 1, 1, 1, BorderTypes.Constant, Scalar.All(0));
        using var distance = new Mat();
        Cv2.DistanceTransform(padded, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        Cv2.MinMaxLoc(distance, out _, out double max, out _, out Point at);
        return (new Point(at.X - 1, at.Y - 1), max);
    }

    public static double Iou(Mat prediction, Mat truth)
    {
        using var inter = new Mat();
        using var union = new Mat();
        Cv2.BitwiseAnd(prediction, truth, inter);
        Cv2.BitwiseOr(prediction, truth, union);
        var u = Cv2.CountNonZero(union);
        return u == 0 ? 1 : (double)Cv2.CountNonZero(inter) / u;
    }
}
