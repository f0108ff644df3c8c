using OpenCvSharp;

namespace Roto.Vision;

/// <summary>The one blend every engine uses: target ← target + (source − target) · alpha, per pixel.</summary>
public static class AlphaBlend
{
    /// <param name="target">BGR 8-bit; blended in place.</param>
    /// <param name="source">BGR 8-bit, the target's size.</param>
    /// <param name="alpha">CV_32FC1 weights in [0, 1] of the source, the target's size.</param>
    public static void Into(Mat target, Mat source, Mat alpha)
    {
        using var alpha3 = new Mat();
        Cv2.Merge([alpha, alpha, alpha], alpha3);
        using var f = new Mat();
        using var b = new Mat();
        source.ConvertTo(f, MatType.CV_32FC3);
        target.ConvertTo(b, MatType.CV_32FC3);
        Cv2.Subtract(f, b, f);
        Cv2.Multiply(f, alpha3, f);
        Cv2.Add(b, f, b);
        b.ConvertTo(target, MatType.CV_8UC3);
    }
}
