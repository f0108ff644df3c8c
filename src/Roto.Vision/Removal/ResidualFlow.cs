using OpenCvSharp;

namespace Roto.Vision.Removal;

/// <summary>
/// What the camera path leaves over: parallax and small misfits between a source aligned by its homography and
/// the target. Dense (Farneback) flow is measured on the band around the hole, where both show background,
/// completed inside the hole by normalised convolution (a smooth fill from the band inward), and the source is
/// resampled along it.
/// </summary>
public static class ResidualFlow
{
    /// <summary>Largest correction applied, in pixels: more means the band saw something else than misalignment.</summary>
    private const float MaxShift = 12f;

    /// <summary>Returns <paramref name="warped"/> resampled so it lines up with <paramref name="here"/> along the band; null when the band is too thin to say.</summary>
    public static Mat? Align(Mat here, Mat warped, Mat band)
    {
        if (Cv2.CountNonZero(band) < 100 || here.Width < 16 || here.Height < 16) return null;
        using var a = new Mat();
        using var b = new Mat();
        Cv2.CvtColor(here, a, ColorConversionCodes.BGR2GRAY);
        Cv2.CvtColor(warped, b, ColorConversionCodes.BGR2GRAY);
        using var flow = new Mat();
        // Large patches are measured at most 320 px across: the correction is smooth, and Farneback's cost is per pixel.
        var factor = Math.Min(1.0, 320.0 / Math.Max(here.Width, here.Height));
        if (factor < 1)
        {
            var size = new Size(Math.Max(16, (int)(here.Width * factor)), Math.Max(16, (int)(here.Height * factor)));
            using var sa = new Mat();
            using var sb = new Mat();
            using var sflow = new Mat();
            Cv2.Resize(a, sa, size, 0, 0, InterpolationFlags.Area);
            Cv2.Resize(b, sb, size, 0, 0, InterpolationFlags.Area);
            Cv2.CalcOpticalFlowFarneback(sa, sb, sflow, 0.5, 3, 15, 3, 5, 1.2, OpticalFlowFlags.None);
            Cv2.Resize(sflow, flow, here.Size(), 0, 0, InterpolationFlags.Linear);
            Cv2.Multiply(flow, Scalar.All((double)here.Width / size.Width), flow);
        }
        else
        {
            Cv2.CalcOpticalFlowFarneback(a, b, flow, 0.5, 3, 15, 3, 5, 1.2, OpticalFlowFlags.None);
        }

        var small = new Size(Math.Max(4, here.Width / 4), Math.Max(4, here.Height / 4));
        using var weight = new Mat();
        band.ConvertTo(weight, MatType.CV_32FC1, 1 / 255.0);
        using var weightSmall = new Mat();
        Cv2.Resize(weight, weightSmall, small, 0, 0, InterpolationFlags.Area);
        var sigma = Math.Max(2, Math.Max(small.Width, small.Height) / 8.0);
        Cv2.GaussianBlur(weightSmall, weightSmall, new Size(0, 0), sigma);
        Cv2.Add(weightSmall, Scalar.All(1e-4), weightSmall);

        var parts = flow.Split();
        try
        {
            foreach (var p in parts)
            {
                Cv2.Min(p, Scalar.All(MaxShift), p);
                Cv2.Max(p, Scalar.All(-MaxShift), p);
                Cv2.Multiply(p, weight, p);
                using var ps = new Mat();
                Cv2.Resize(p, ps, small, 0, 0, InterpolationFlags.Area);
                Cv2.GaussianBlur(ps, ps, new Size(0, 0), sigma);
                Cv2.Divide(ps, weightSmall, ps);
                Cv2.Resize(ps, p, here.Size(), 0, 0, InterpolationFlags.Linear);
            }
            using var mapX = Grid(here.Size(), horizontal: true);
            using var mapY = Grid(here.Size(), horizontal: false);
            Cv2.Add(mapX, parts[0], mapX);
            Cv2.Add(mapY, parts[1], mapY);
            var aligned = new Mat();
            Cv2.Remap(warped, aligned, mapX, mapY, InterpolationFlags.Linear, BorderTypes.Replicate);
            return aligned;
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Pixel coordinates as a float plane (x or y), the identity map for Remap.</summary>
    private static Mat Grid(Size size, bool horizontal)
    {
        var n = horizontal ? size.Width : size.Height;
        var line = new float[n];
        for (var i = 0; i < n; i++) line[i] = i;
        using var ramp = horizontal ? new Mat(1, n, MatType.CV_32FC1) : new Mat(n, 1, MatType.CV_32FC1);
        ramp.SetArray(line);
        var grid = new Mat();
        Cv2.Repeat(ramp, horizontal ? size.Height : 1, horizontal ? 1 : size.Width, grid);
        return grid;
    }
}
