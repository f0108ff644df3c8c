using OpenCvSharp;
using Roto.Vision.Segmentation;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Segmentation;

public sealed class LinearProbeTests(SegmenterFixture fixture) : IClassFixture<SegmenterFixture>
{
    [Fact]
    public void The_probe_matches_a_plain_weighted_least_squares_fit_and_separates_the_element()
    {
        using var frame = Frame("dog");
        using var truth = Truth("dog");
        var analysis = fixture.Segmenter.Analysis(new SegmentRequest(frame, [], "test/probe/dog"));
        var labels = new bool[analysis.Count];
        var weights = new double[analysis.Count];
        for (var s = 0; s < analysis.Count; s++)
        {
            var c = analysis.Centroid[s];
            labels[s] = truth.At<byte>((int)(c.Y * truth.Rows / analysis.WorkSize.Height), (int)(c.X * truth.Cols / analysis.WorkSize.Width)) != 0;
            // Uneven weights, as the cut gives them (area, border and clicks counted more).
            weights[s] = analysis.Area[s] * (analysis.OnBorder[s] ? 3 : 1) * (s % 17 == 0 ? 10 : 1);
        }

        var probe = LinearProbe.Fit(analysis, labels, weights, ridge: 0.1);
        var expected = ReferenceFit(analysis, labels, weights, ridge: 0.1);

        for (var s = 0; s < probe.Length; s++) Assert.True(Math.Abs(probe[s] - expected[s]) < 2e-3, $"superpixel {s}: {probe[s]} vs {expected[s]}");
        var inside = Enumerable.Range(0, labels.Length).Where(s => labels[s]).Average(s => probe[s]);
        var outside = Enumerable.Range(0, labels.Length).Where(s => !labels[s]).Average(s => probe[s]);
        Assert.True(inside > 0.7 && outside < 0.3, $"mean probability on the dog {inside:0.00}, off it {outside:0.00}");
    }

    /// <summary>The same ridge regression in double precision with OpenCV's matrix product: the definition the fast path must reproduce.</summary>
    private static double[] ReferenceFit(FrameAnalysis frame, bool[] labels, double[] weights, double ridge)
    {
        int n = frame.Count, d = frame.ProjectedLength + 1;
        double fg = 0, bg = 0;
        for (var s = 0; s < n; s++) { if (labels[s]) fg += weights[s]; else bg += weights[s]; }
        using var x = new Mat(n, d, MatType.CV_64FC1);
        using var y = new Mat(n, 1, MatType.CV_64FC1);
        for (var s = 0; s < n; s++)
        {
            var root = Math.Sqrt(weights[s] / (labels[s] ? fg : bg));
            var p = frame.ProjectedDescriptor(s);
            for (var i = 0; i < d - 1; i++) x.Set(s, i, p[i] * root);
            x.Set(s, d - 1, root);
            y.Set(s, 0, labels[s] ? root : 0.0);
        }
        using var gram = new Mat();
        using var rhs = new Mat();
        using var none = new Mat();
        Cv2.Gemm(x, x, 1, none, 0, gram, GemmFlags.A_T);
        Cv2.Gemm(x, y, 1, none, 0, rhs, GemmFlags.A_T);
        var trace = Cv2.Trace(gram).Val0 / d;
        for (var i = 0; i < d - 1; i++) gram.Set(i, i, gram.At<double>(i, i) + ridge * trace);
        using var coef = new Mat();
        Cv2.Solve(gram, rhs, coef, DecompTypes.Cholesky);
        var score = new double[n];
        for (var s = 0; s < n; s++)
        {
            var p = frame.ProjectedDescriptor(s);
            score[s] = coef.At<double>(d - 1, 0);
            for (var i = 0; i < d - 1; i++) score[s] += p[i] * coef.At<double>(i, 0);
        }
        double meanFg = 0, meanBg = 0;
        for (var s = 0; s < n; s++) { if (labels[s]) meanFg += score[s] * weights[s] / fg; else meanBg += score[s] * weights[s] / bg; }
        var gap = Math.Max(1e-6, meanFg - meanBg);
        return [.. score.Select(v => Math.Clamp(0.5 + (v - (meanFg + meanBg) / 2) / gap, 0, 1))];
    }
}
