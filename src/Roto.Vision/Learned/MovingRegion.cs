using OpenCvSharp;
using Roto.Vision.Removal;

namespace Roto.Vision.Learned;

/// <summary>
/// What moves against the camera between a frame and a later one: dense flow at a small size, the camera's motion
/// fitted to it (a homography, RANSAC, so the element's own motion is left out as outliers), and the pixels whose flow
/// the camera does not explain. A video element is what moves as one, so the moving region under a click tells the
/// element from the still background its colours run into, which a single frame cannot.
/// </summary>
public static class MovingRegion
{
    /// <summary>The width the flow is measured at: the element's extent matters here, not its outline.</summary>
    public const int FlowWidth = 320;

    /// <summary>Residual motion, in pixels at <see cref="FlowWidth"/>, above which a pixel moves of its own.</summary>
    public const double MovingResidual = 1.5;

    /// <summary>
    /// Farneback's averaging window at <see cref="FlowWidth"/>. Chosen on davis16-dev frame 0 (IoU@1 with the region as
    /// a cue: 15 px 0.737; 7 px 0.714, and 0.715 with a residual of 2.5 px).
    /// </summary>
    private const int FlowWindow = 15;

    /// <returns>CV_8UC1 at <paramref name="frame"/>'s size/<paramref name="outputSize"/>, 255 where the pixel moves of its own; the caller disposes it.</returns>
    public static Mat Moving(Mat frame, Mat later, Size outputSize)
    {
        var size = new Size(FlowWidth, Math.Max(1, (int)Math.Round(frame.Height * FlowWidth / (double)frame.Width)));
        using var a = Gray(frame, size);
        using var b = Gray(later, size);
        using var flow = new Mat();
        Cv2.CalcOpticalFlowFarneback(a, b, flow, 0.5, 4, FlowWindow, 3, 5, 1.2, OpticalFlowFlags.None);

        // The camera: a homography through flow samples on a grid; most of a frame is background.
        var src = new List<Point2d>();
        var dst = new List<Point2d>();
        const int step = 8;
        for (var y = step / 2; y < size.Height; y += step)
        for (var x = step / 2; x < size.Width; x += step)
        {
            var f = flow.At<Vec2f>(y, x);
            src.Add(new Point2d(x, y));
            dst.Add(new Point2d(x + f.Item0, y + f.Item1));
        }
        var camera = Homography.Identity;
        using (var inliers = new Mat())
        using (var fit = Cv2.FindHomography(src, dst, HomographyMethods.Ransac, 1.0, inliers))
            if (!fit.Empty()) camera = Homography.FromMat(fit);

        var moving = new Mat(size, MatType.CV_8UC1, Scalar.All(0));
        for (var y = 0; y < size.Height; y++)
        for (var x = 0; x < size.Width; x++)
        {
            var f = flow.At<Vec2f>(y, x);
            var expected = camera.Apply(new Point2d(x, y));
            var dx = x + f.Item0 - expected.X;
            var dy = y + f.Item1 - expected.Y;
            if (dx * dx + dy * dy > MovingResidual * MovingResidual) moving.Set(y, x, (byte)255);
        }
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(5, 5));
        Cv2.MorphologyEx(moving, moving, MorphTypes.Open, kernel);
        Cv2.MorphologyEx(moving, moving, MorphTypes.Close, kernel);
        var output = new Mat();
        Cv2.Resize(moving, output, outputSize, 0, 0, InterpolationFlags.Nearest);
        moving.Dispose();
        return output;
    }

    private static Mat Gray(Mat bgr, Size size)
    {
        var small = new Mat();
        Cv2.Resize(bgr, small, size, 0, 0, InterpolationFlags.Area);
        if (small.Channels() == 3) Cv2.CvtColor(small, small, ColorConversionCodes.BGR2GRAY);
        return small;
    }
}
