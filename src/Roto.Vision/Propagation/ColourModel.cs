using OpenCvSharp;

namespace Roto.Vision.Propagation;

/// <summary>
/// Foreground and background colour histograms (Lab, 16 bins a channel) learnt on a marked frame; gives each pixel
/// the posterior probability of belonging to the element. The histograms are looked up by hand because OpenCV's
/// back projection saturates to 8-bit and cannot return a ratio of two densities.
/// </summary>
internal sealed class ColourModel
{
    private const int Bins = 16;
    private const int Shift = 4; // 256 / Bins = 2^4
    private readonly float[] _posterior = new float[Bins * Bins * Bins];

    /// <param name="bgr">The marked frame at working size.</param>
    /// <param name="mask">CV_8UC1, non-zero on the element.</param>
    public unsafe ColourModel(Mat bgr, Mat mask)
    {
        using var lab = new Mat();
        Cv2.CvtColor(bgr, lab, ColorConversionCodes.BGR2Lab);
        // Background near the element matters most: count a ring around it three times.
        var side = Math.Sqrt(Math.Max(1, Cv2.CountNonZero(mask)));
        var ringRadius = Math.Max(3, (int)(side * 0.4));
        // The ring as a distance from the element rather than a dilation by a disc: the same pixels, but a disc 0.8 times
        // the element's side wide made this constructor cost 120 ms on a 864×480 frame (5 ms this way), and a preview
        // builds a tracker for every correction it blends back.
        using var near = new Mat();
        using (var outside = new Mat())
        using (var distance = new Mat())
        {
            Cv2.BitwiseNot(mask, outside);
            Cv2.DistanceTransform(outside, distance, DistanceTypes.L2, DistanceTransformMasks.Mask5);
            Cv2.Threshold(distance, distance, ringRadius, 255, ThresholdTypes.BinaryInv);
            distance.ConvertTo(near, MatType.CV_8UC1);
        }

        var fg = new double[_posterior.Length];
        var bg = new double[_posterior.Length];
        double nFg = 0, nBg = 0;
        int rows1 = lab.Rows, cols1 = lab.Cols;
        for (var y = 0; y < rows1; y++)
        {
            var l = (byte*)lab.Ptr(y);
            var m = (byte*)mask.Ptr(y);
            var n = (byte*)near.Ptr(y);
            for (var x = 0; x < cols1; x++)
            {
                var bin = Bin(l + 3 * x);
                if (m[x] != 0) { fg[bin]++; nFg++; }
                else
                {
                    var weight = n[x] != 0 ? 3.0 : 1.0;
                    bg[bin] += weight;
                    nBg += weight;
                }
            }
        }
        // A small prior keeps unseen colours undecided instead of certain.
        const double prior = 0.5;
        for (var i = 0; i < _posterior.Length; i++)
        {
            var f = (fg[i] + prior) / (nFg + prior * _posterior.Length);
            var b = (bg[i] + prior) / (nBg + prior * _posterior.Length);
            _posterior[i] = (float)(f / (f + b));
        }
    }

    /// <summary>Writes the posterior (CV_32FC1) of every pixel of <paramref name="bgr"/> into <paramref name="posterior"/>.</summary>
    public unsafe void Posterior(Mat bgr, Mat posterior)
    {
        using var lab = new Mat();
        Cv2.CvtColor(bgr, lab, ColorConversionCodes.BGR2Lab);
        posterior.Create(bgr.Rows, bgr.Cols, MatType.CV_32FC1);
        int rows2 = lab.Rows, cols2 = lab.Cols;
        for (var y = 0; y < rows2; y++)
        {
            var l = (byte*)lab.Ptr(y);
            var p = (float*)posterior.Ptr(y);
            for (var x = 0; x < cols2; x++) p[x] = _posterior[Bin(l + 3 * x)];
        }
    }

    private static unsafe int Bin(byte* lab) => ((lab[0] >> Shift) * Bins + (lab[1] >> Shift)) * Bins + (lab[2] >> Shift);
}
