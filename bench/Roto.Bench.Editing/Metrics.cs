using OpenCvSharp;

namespace Roto.Bench.Editing;

/// <summary>Per-video scores of a completed video against the truth, inside a region and on the whole frame.</summary>
public sealed record Scores(double PsnrRegion, double SsimRegion, double PsnrFrame, double SsimFrame, double Flicker, double TruthFlicker);

public static class Metrics
{
    private const double PsnrCap = 60;

    public static Scores Score(IReadOnlyList<Mat> output, IReadOnlyList<Mat> truth, IReadOnlyList<Mat> regions)
    {
        var n = Math.Min(output.Count, truth.Count);
        var psnrR = new List<double>();
        var ssimR = new List<double>();
        var psnrF = new List<double>();
        var ssimF = new List<double>();
        var flick = new List<double>();
        var truthFlick = new List<double>();
        using var full = new Mat(truth[0].Size(), MatType.CV_8UC1, Scalar.All(255));
        for (var i = 0; i < n; i++)
        {
            psnrF.Add(Psnr(output[i], truth[i], full));
            using (var map = SsimMap(output[i], truth[i])) ssimF.Add(Cv2.Mean(map).Val0);
            if (Cv2.CountNonZero(regions[i]) == 0) continue;
            psnrR.Add(Psnr(output[i], truth[i], regions[i]));
            using (var map = SsimMap(output[i], truth[i])) ssimR.Add(Cv2.Mean(map, regions[i]).Val0);
            if (i == 0) continue;
            using var both = new Mat();
            Cv2.BitwiseOr(regions[i], regions[i - 1], both);
            flick.Add(MeanAbsDiff(output[i], output[i - 1], both));
            truthFlick.Add(MeanAbsDiff(truth[i], truth[i - 1], both));
        }
        return new Scores(psnrR.Average(), ssimR.Average(), psnrF.Average(), ssimF.Average(), flick.Average(), truthFlick.Average());
    }

    public static double Psnr(Mat a, Mat b, Mat mask)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var f = new Mat();
        diff.ConvertTo(f, MatType.CV_32FC3);
        using var sq = f.Mul(f).ToMat();
        var mean = Cv2.Mean(sq, mask);
        var mse = (mean.Val0 + mean.Val1 + mean.Val2) / 3;
        return mse <= 1e-10 ? PsnrCap : Math.Min(PsnrCap, 10 * Math.Log10(255.0 * 255.0 / mse));
    }

    public static double MeanAbsDiff(Mat a, Mat b, Mat mask)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var m = Cv2.Mean(diff, mask);
        return (m.Val0 + m.Val1 + m.Val2) / 3;
    }

    /// <summary>SSIM map on grey (Wang et al. 2004: 11×11 Gaussian window, σ = 1.5).</summary>
    public static Mat SsimMap(Mat a, Mat b)
    {
        const double c1 = 6.5025, c2 = 58.5225;
        using var ga = Grey(a);
        using var gb = Grey(b);
        var size = new Size(11, 11);
        using var mu1 = new Mat();
        using var mu2 = new Mat();
        Cv2.GaussianBlur(ga, mu1, size, 1.5);
        Cv2.GaussianBlur(gb, mu2, size, 1.5);
        using var mu1Sq = mu1.Mul(mu1).ToMat();
        using var mu2Sq = mu2.Mul(mu2).ToMat();
        using var mu12 = mu1.Mul(mu2).ToMat();
        using var aa = ga.Mul(ga).ToMat();
        using var bb = gb.Mul(gb).ToMat();
        using var ab = ga.Mul(gb).ToMat();
        using var s1 = new Mat();
        using var s2 = new Mat();
        using var s12 = new Mat();
        Cv2.GaussianBlur(aa, s1, size, 1.5);
        Cv2.GaussianBlur(bb, s2, size, 1.5);
        Cv2.GaussianBlur(ab, s12, size, 1.5);
        Cv2.Subtract(s1, mu1Sq, s1);
        Cv2.Subtract(s2, mu2Sq, s2);
        Cv2.Subtract(s12, mu12, s12);
        using var t1 = new Mat();
        using var t2 = new Mat();
        Cv2.AddWeighted(mu12, 2, mu12, 0, c1, t1);
        Cv2.AddWeighted(s12, 2, s12, 0, c2, t2);
        using var num = t1.Mul(t2).ToMat();
        using var d1 = new Mat();
        using var d2 = new Mat();
        Cv2.Add(mu1Sq, mu2Sq, d1);
        Cv2.Add(d1, Scalar.All(c1), d1);
        Cv2.Add(s1, s2, d2);
        Cv2.Add(d2, Scalar.All(c2), d2);
        using var den = d1.Mul(d2).ToMat();
        var map = new Mat();
        Cv2.Divide(num, den, map);
        return map;
    }

    private static Mat Grey(Mat bgr)
    {
        using var g = new Mat();
        Cv2.CvtColor(bgr, g, ColorConversionCodes.BGR2GRAY);
        var f = new Mat();
        g.ConvertTo(f, MatType.CV_32FC1);
        return f;
    }
}
