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
    /// optimised BLAS: through Cv2.Gemm one fit took 20–65 ms at 1280×720 on two cores (two fits per click), this way
    /// 9 ms (median; bench/Roto.Bench.Selection --latency-only).
    /// </summary>
    private static (float[] Gram, float[] Rhs) WeightedGram(FrameAnalysis frame, bool[] labels, double[] weights, double fgWeight, double bgWeight)
    {
        var d = frame.ProjectedLength + 1;
        var gram = new float[d * d];
        var rhs = new float[d];
        var row = new float[d];
        for (var s = 0; s < frame.Count; s++)
        {
            var w = (float)(weights[s] / (labels[s] ? fgWeight : bgWeight));
            if (w <= 0) continue;
            frame.ProjectedDescriptor(s).CopyTo(row);
            row[d - 1] = 1;
            // Upper triangle only: gram[i, j] for j ≥ i.
            for (var i = 0; i < d; i++)
            {
                var scaled = w * row[i];
                if (scaled == 0) continue;
                var tail = gram.AsSpan(i * d + i, d - i);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(row.AsSpan(i), scaled, tail, tail);
            }
            if (labels[s]) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(row, w, rhs, rhs);
        }
        for (var i = 0; i < d; i++)
            for (var j = i + 1; j < d; j++) gram[j * d + i] = gram[i * d + j];
        return (gram, rhs);
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
