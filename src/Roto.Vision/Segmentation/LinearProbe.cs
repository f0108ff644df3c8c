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
    /// <summary>Foreground probability (clamped to 0…1) per superpixel.</summary>
    /// <param name="weights">Per-superpixel sample weight (0 leaves it out).</param>
    public static double[] Fit(FrameAnalysis frame, bool[] labels, double[] weights, double ridge)
    {
        int n = frame.Count, d = frame.ProjectedLength + 1;
        double fgWeight = 0, bgWeight = 0;
        for (var s = 0; s < n; s++) { if (labels[s]) fgWeight += weights[s]; else bgWeight += weights[s]; }
        if (fgWeight <= 0 || bgWeight <= 0) return [.. labels.Select(l => l ? 1.0 : 0.0)];

        // Rows scaled by sqrt(weight) so that XᵀX and Xᵀy carry the weights; the last column is the bias.
        var x = new float[n * d];
        var y = new float[n];
        for (var s = 0; s < n; s++)
        {
            var w = weights[s] / (labels[s] ? fgWeight : bgWeight);
            var root = (float)Math.Sqrt(w);
            var row = x.AsSpan(s * d, d);
            frame.ProjectedDescriptor(s).CopyTo(row);
            row[d - 1] = 1;
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, root, row);
            y[s] = labels[s] ? root : 0;
        }
        using var xm = new Mat(n, d, MatType.CV_32FC1);
        Marshal.Copy(x, 0, xm.Data, x.Length);
        using var ym = new Mat(n, 1, MatType.CV_32FC1);
        Marshal.Copy(y, 0, ym.Data, y.Length);
        using var gram = new Mat();
        using var none = new Mat();
        Cv2.Gemm(xm, xm, 1, none, 0, gram, GemmFlags.A_T);
        var trace = Cv2.Trace(gram).Val0 / d;
        for (var i = 0; i < d - 1; i++) gram.At<float>(i, i) += (float)(ridge * trace);
        using var rhs = new Mat();
        Cv2.Gemm(xm, ym, 1, none, 0, rhs, GemmFlags.A_T);
        using var coef = new Mat();
        Cv2.Solve(gram, rhs, coef, DecompTypes.Cholesky);
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
