using OpenCvSharp;

using Roto.Vision;

namespace Roto.Baselines;

/// <summary>
/// The DAVIS video-segmentation measures: J (region IoU) and F (boundary F-measure within a tolerance of
/// 0.008 of the image diagonal). Written to match the official DAVIS evaluation code number for number, so the
/// boundary map and the decay bins follow that code's exact conventions rather than OpenCV's edge tools.
/// </summary>
public static class DavisMetrics
{
    public const double BoundaryTolerance = 0.008;

    /// <summary>Region similarity: |pred ∩ gt| / |pred ∪ gt| of the non-zero pixels; 1 when both are empty.</summary>
    public static double Jaccard(Mat prediction, Mat groundTruth)
    {
        var (p, g) = Planes(prediction, groundTruth);
        long inter = 0, union = 0;
        for (var i = 0; i < p.Length; i++)
        {
            bool a = p[i] != 0, b = g[i] != 0;
            if (a && b) inter++;
            if (a || b) union++;
        }
        return union == 0 ? 1.0 : (double)inter / union;
    }

    /// <summary>Boundary F-measure: precision and recall of the boundary pixels matched within a disk of the tolerance.</summary>
    public static double BoundaryF(Mat prediction, Mat groundTruth, double tolerance = BoundaryTolerance)
    {
        var (p, g) = Planes(prediction, groundTruth);
        int w = prediction.Width, h = prediction.Height;
        var radius = tolerance >= 1 ? (int)tolerance : (int)Math.Ceiling(tolerance * Math.Sqrt((double)w * w + (double)h * h));
        var fgBoundary = BoundaryMap(p, w, h);
        var gtBoundary = BoundaryMap(g, w, h);
        var fgDilated = Dilate(fgBoundary, w, h, radius);
        var gtDilated = Dilate(gtBoundary, w, h, radius);

        long nFg = 0, nGt = 0, fgMatch = 0, gtMatch = 0;
        for (var i = 0; i < fgBoundary.Length; i++)
        {
            if (fgBoundary[i] != 0) { nFg++; if (gtDilated[i] != 0) fgMatch++; }
            if (gtBoundary[i] != 0) { nGt++; if (fgDilated[i] != 0) gtMatch++; }
        }
        double precision, recall;
        if (nFg == 0 && nGt > 0) (precision, recall) = (1, 0);
        else if (nFg > 0 && nGt == 0) (precision, recall) = (0, 1);
        else if (nFg == 0 && nGt == 0) (precision, recall) = (1, 1);
        else (precision, recall) = ((double)fgMatch / nFg, (double)gtMatch / nGt);
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    /// <summary>
    /// DAVIS's seg2bmap: a pixel is boundary when it differs from its east, south or south-east neighbour
    /// (neighbours outside the image count as background); the last row compares east only, the last column
    /// south only, and the bottom-right pixel is never boundary. No OpenCV operation has these exact rules.
    /// </summary>
    public static byte[] BoundaryMap(byte[] seg, int w, int h)
    {
        var b = new byte[seg.Length];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var s = seg[i] != 0;
                var east = x + 1 < w && seg[i + 1] != 0;
                var south = y + 1 < h && seg[i + w] != 0;
                var southEast = x + 1 < w && y + 1 < h && seg[i + w + 1] != 0;
                bool edge;
                if (y == h - 1 && x == w - 1) edge = false;
                else if (x == w - 1) edge = s ^ south;
                else if (y == h - 1) edge = s ^ east;
                else edge = (s ^ east) | (s ^ south) | (s ^ southEast);
                b[i] = edge ? (byte)1 : (byte)0;
            }
        }
        return b;
    }

    private static byte[] Dilate(byte[] plane, int w, int h, int radius)
    {
        using var src = Mat.FromPixelData(h, w, MatType.CV_8UC1, plane);
        using var kernel = Disk(radius);
        using var dst = new Mat();
        Cv2.Dilate(src, dst, kernel);
        var result = new byte[plane.Length];
        dst.GetArray(out byte[] data);
        data.CopyTo(result, 0);
        return result;
    }

    /// <summary>The disk structuring element of the reference code: every offset with dx² + dy² ≤ r².</summary>
    private static Mat Disk(int radius)
    {
        var size = 2 * radius + 1;
        var disk = new Mat(size, size, MatType.CV_8UC1, Scalar.All(0));
        for (var y = -radius; y <= radius; y++)
            for (var x = -radius; x <= radius; x++)
                if (x * x + y * y <= radius * radius) disk.Set(y + radius, x + radius, (byte)1);
        return disk;
    }

    private static (byte[] Prediction, byte[] GroundTruth) Planes(Mat prediction, Mat groundTruth)
    {
        if (prediction.Size() != groundTruth.Size()) throw new ArgumentException("prediction and ground truth differ in size");
        return (Plane(prediction), Plane(groundTruth));
    }

    /// <summary>One byte per pixel, non-zero where any channel is non-zero (palette PNGs decode to colours).</summary>
    public static byte[] Plane(Mat mask)
    {
        using var gray = new Mat(mask.Rows, mask.Cols, MatType.CV_8UC1, Scalar.All(0));
        var channels = mask.Split();
        foreach (var channel in channels)
        {
            using (channel)
            {
                using var nonZero = new Mat();
                Cv2.Compare(channel, Scalar.All(0), nonZero, CmpTypes.GT);
                Cv2.BitwiseOr(gray, nonZero, gray);
            }
        }
        gray.GetArray(out byte[] data);
        return data;
    }
}

/// <summary>Per-sequence summary of one measure over the scored frames, as the DAVIS code reports it.</summary>
public readonly record struct MeasureStatistics(double Mean, double Recall, double Decay)
{
    /// <summary>Mean; recall = share of frames above 0.5; decay = mean of the first quarter minus mean of the last.</summary>
    public static MeasureStatistics Of(IReadOnlyList<double> perFrame)
    {
        if (perFrame.Count == 0) return new(double.NaN, double.NaN, double.NaN);
        var mean = perFrame.Average();
        var recall = perFrame.Count(v => v > 0.5) / (double)perFrame.Count;
        // The reference bins: ids = round(linspace(1, n, 5) + 1e-10) - 1, bin i = values[ids[i] .. ids[i+1]] inclusive.
        const int bins = 4;
        var ids = new int[bins + 1];
        for (var i = 0; i <= bins; i++)
        {
            var v = 1 + (perFrame.Count - 1) * (double)i / bins;
            ids[i] = (int)Math.Round(v + 1e-10, MidpointRounding.ToEven) - 1;
        }
        double BinMean(int b) => perFrame.Skip(ids[b]).Take(Math.Min(ids[b + 1] + 1, perFrame.Count) - ids[b]).Average();
        return new(mean, recall, BinMean(0) - BinMean(bins - 1));
    }
}
