using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Roto.Vision.Segmentation;

/// <summary>
/// A ridge-regression classifier on (randomly projected) superpixel descriptors (foreground = 1, background = 0), class-balanced, fitted
/// in closed form with OpenCV's matrix routines. Unlike nearest-centre models it weighs the feature directions that
/// separate this element from its surroundings.
/// </summary>
public static class LinearProbe
{
    /// <summary>
    /// XᵀWX and XᵀWy of the class-balanced weighted samples (rows: projected descriptor, then 1 for the bias), summed
    /// as symmetric rank-1 updates with SIMD. Written by hand because OpenCV's gemm in this runtime is not backed by an
    /// optimised BLAS (through Cv2.Gemm one fit took 20–65 ms at 1280×720 on two cores). XᵀWX starts from the frame's
    /// area-weighted Gram matrix, cached on the analysis, so a fit only adds the superpixels whose weight differs from
    /// their area and those of the smaller class.
    /// </summary>
    private static (float[] Gram, float[] Rhs) WeightedGram(FrameAnalysis frame, bool[] labels, double[] weights, double fgWeight, double bgWeight)
    {
        var d = frame.ProjectedLength + 1;
        var row = new float[d];
        // All samples at their own weight: the cached area-weighted sum, corrected where the weight is not the area.
        var all = (float[])frame.ProbeGram.Clone();
        for (var s = 0; s < frame.Count; s++)
        {
            var extra = weights[s] - frame.Area[s];
            if (extra != 0) AddOuter(all, Row(frame, s, row), (float)extra);
        }
        // The smaller class summed directly, the other as the rest.
        var foregroundCount = labels.Count(l => l);
        var sumForeground = foregroundCount <= frame.Count - foregroundCount;
        var some = new float[d * d];
        var rhs = new float[d];
        for (var s = 0; s < frame.Count; s++)
        {
            if (labels[s]) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(Row(frame, s, row), (float)(weights[s] / fgWeight), rhs, rhs);
            if (labels[s] == sumForeground && weights[s] != 0) AddOuter(some, Row(frame, s, row), (float)weights[s]);
        }
        // gram = F / fgWeight + (all − F) / bgWeight, with F the foreground sum.
        var gram = new float[d * d];
        float fromSome = (float)(1 / (sumForeground ? fgWeight : bgWeight)), fromRest = (float)(1 / (sumForeground ? bgWeight : fgWeight));
        for (var i = 0; i < d; i++)
        {
            for (var j = i; j < d; j++)
            {
                var k = i * d + j;
                gram[k] = fromSome * some[k] + fromRest * (all[k] - some[k]);
                gram[j * d + i] = gram[k];
            }
        }
        return (gram, rhs);
    }

    /// <summary>Σ area · x xᵀ over the frame's superpixels (upper triangle), the part of every fit that does not depend on the clicks.</summary>
    internal static float[] AreaGram(FrameAnalysis frame)
    {
        var d = frame.ProjectedLength + 1;
        var gram = new float[d * d];
        var row = new float[d];
        for (var s = 0; s < frame.Count; s++) AddOuter(gram, Row(frame, s, row), frame.Area[s]);
        return gram;
    }

    private static float[] Row(FrameAnalysis frame, int s, float[] row)
    {
        frame.ProjectedDescriptor(s).CopyTo(row);
        row[^1] = 1;
        return row;
    }

    /// <summary>gram += w · row rowᵀ, upper triangle only (gram[i, j] for j ≥ i).</summary>
    private static void AddOuter(float[] gram, float[] row, float w)
    {
        var d = row.Length;
        for (var i = 0; i < d; i++)
        {
            var scaled = w * row[i];
            if (scaled == 0) continue;
            var tail = gram.AsSpan(i * d + i, d - i);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(row.AsSpan(i), scaled, tail, tail);
        }
    }

    /// <summary>Foreground probability (clamped to 0…1) per superpixel.</summary>
    /// <param name="weights">Per-superpixel sample weight (0 leaves it out).</param>
    public static double[] Fit(FrameAnalysis frame, bool[] labels, double[] weights, double ridge)
    {
        int n = frame.Count, d = frame.ProjectedLength + 1;
        double fgWeight = 0, bgWeight = 0;
        for (var s = 0; s < n; s++) { if (labels[s]) fgWeight += weights[s]; else bgWeight += weights[s]; }
        if (fgWeight <= 0 || bgWeight <= 0) return [.. labels.Select(l => l ? 1.0 : 0.0)];

        var (gram, rhs) = WeightedGram(frame, labels, weights, fgWeight, bgWeight);
        var trace = 0.0;
        for (var i = 0; i < d; i++) trace += gram[i * d + i];
        trace /= d;
        for (var i = 0; i < d - 1; i++) gram[i * d + i] += (float)(ridge * trace);
        using var gramMat = new Mat(d, d, MatType.CV_32FC1);
        Marshal.Copy(gram, 0, gramMat.Data, gram.Length);
        using var rhsMat = new Mat(d, 1, MatType.CV_32FC1);
        Marshal.Copy(rhs, 0, rhsMat.Data, rhs.Length);
        using var coef = new Mat();
        Cv2.Solve(gramMat, rhsMat, coef, DecompTypes.Cholesky);
        var c = new float[d];
        Marshal.Copy(coef.Data, c, 0, d);

        // The fit targets 1 for a balanced mix, so the decision threshold sits at half the class-mean gap.
        var p = new double[n];
        for (var s = 0; s < n; s++)
        {
            var score = System.Numerics.Tensors.TensorPrimitives.Dot(frame.ProjectedDescriptor(s), c.AsSpan(0, d - 1)) + c[d - 1];
            p[s] = score;
        }
        double meanFg = 0, meanBg = 0;
        for (var s = 0; s < n; s++) { if (labels[s]) meanFg += p[s] * weights[s] / fgWeight; else meanBg += p[s] * weights[s] / bgWeight; }
        var gap = Math.Max(1e-6, meanFg - meanBg);
        for (var s = 0; s < n; s++) p[s] = Math.Clamp(0.5 + (p[s] - (meanFg + meanBg) / 2) / gap, 0, 1);
        return p;
    }
}
