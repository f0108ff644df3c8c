using OpenCvSharp;
using Roto.Vision.Removal;

namespace Roto.Vision.Compositing;

/// <summary>
/// Draws a subject (BGRA) into a frame through a projective transform: alpha edges softened in proportion to the
/// drawn size, colours nudged toward the scene's light, and optionally kept inside a clip rectangle.
/// </summary>
public sealed class SubjectPainter : IDisposable
{
    private readonly Mat _colour = new();
    private readonly Mat _alpha = new();
    private readonly Scalar _subjectLab;

    public SubjectPainter(Subject subject)
    {
        var bgra = subject.Bgra;
        if (bgra.Type() != MatType.CV_8UC4) throw new ArgumentException("a subject is BGRA");
        Cv2.CvtColor(bgra, _colour, ColorConversionCodes.BGRA2BGR);
        using var a = bgra.ExtractChannel(3);
        a.ConvertTo(_alpha, MatType.CV_32FC1, 1 / 255.0);
        using var solid = new Mat();
        Cv2.Threshold(a, solid, 127, 255, ThresholdTypes.Binary);
        using var lab = new Mat();
        Cv2.CvtColor(_colour, lab, ColorConversionCodes.BGR2Lab);
        _subjectLab = Cv2.CountNonZero(solid) > 0 ? Cv2.Mean(lab, solid) : Cv2.Mean(lab);
        var m = Cv2.Moments(a);
        Centre = m.M00 > 0 ? new Point2d(m.M10 / m.M00, m.M01 / m.M00) : new Point2d(bgra.Width / 2.0, bgra.Height / 2.0);
    }

    public int Width => _colour.Width;
    public int Height => _colour.Height;
    /// <summary>The alpha-weighted centre of the subject, in its own pixels.</summary>
    public Point2d Centre { get; }

    /// <summary>Mean Lab colour (OpenCV 8-bit scale) of the scene where the subject stands; used to match its light.</summary>
    public static Scalar SceneLab(Mat frame, Rect around)
    {
        var r = around & new Rect(0, 0, frame.Width, frame.Height);
        if (r.Width < 2 || r.Height < 2) r = new Rect(0, 0, frame.Width, frame.Height);
        using var roi = frame[r];
        using var lab = new Mat();
        Cv2.CvtColor(roi, lab, ColorConversionCodes.BGR2Lab);
        return Cv2.Mean(lab);
    }

    /// <summary>Where the transformed subject lands in the frame (its corners' bounding box, clipped to the frame).</summary>
    public Rect Footprint(Homography toFrame, Size frameSize)
    {
        Point2d[] corners = [new(0, 0), new(Width, 0), new(0, Height), new(Width, Height)];
        var p = corners.Select(toFrame.Apply).ToArray();
        var x0 = (int)Math.Floor(p.Min(c => c.X)) - 1;
        var y0 = (int)Math.Floor(p.Min(c => c.Y)) - 1;
        var x1 = (int)Math.Ceiling(p.Max(c => c.X)) + 1;
        var y1 = (int)Math.Ceiling(p.Max(c => c.Y)) + 1;
        return new Rect(x0, y0, x1 - x0, y1 - y0) & new Rect(0, 0, frameSize.Width, frameSize.Height);
    }

    /// <param name="sceneLab">The scene's light where the subject stands (see <see cref="SceneLab"/>); null keeps the subject's colours.</param>
    /// <param name="clip">Pixels outside this rectangle are never touched.</param>
    public void Paint(Mat frame, Homography toFrame, Scalar? sceneLab, Rect? clip = null)
    {
        var box = Footprint(toFrame, frame.Size());
        if (clip is { } c) box &= c;
        if (box.Width < 2 || box.Height < 2) return;
        using var m = Homography.Translation(-box.X, -box.Y).After(toFrame).ToMat();
        using var colour = new Mat();
        using var alpha = new Mat();
        var scale = toFrame.ScaleAt(Centre);
        // Area resampling when the subject is drawn much smaller: linear warping alone would alias its texture.
        var interpolation = scale < 0.7 ? InterpolationFlags.Area : InterpolationFlags.Linear;
        Cv2.WarpPerspective(_colour, colour, m, box.Size, interpolation, BorderTypes.Replicate);
        Cv2.WarpPerspective(_alpha, alpha, m, box.Size, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));

        // A cut-out's edge is harder than a filmed object's: soften it by about a pixel of the output.
        var k = Math.Max(box.Width, box.Height) > 200 ? 5 : 3;
        Cv2.GaussianBlur(alpha, alpha, new Size(k, k), 0);
        if (sceneLab is { } lab) MatchLight(colour, lab);

        using var roi = frame[box];
        AlphaBlend.Into(roi, colour, alpha);
    }

    /// <summary>
    /// Moves the subject part of the way toward the scene's brightness and colour cast; all the way would wash out
    /// the subject's own colours, none leaves a studio-lit cut-out in a dim scene.
    /// </summary>
    private void MatchLight(Mat colour, Scalar sceneLab)
    {
        var shift = new Scalar(
            Math.Clamp(0.4 * (sceneLab.Val0 - _subjectLab.Val0), -30, 30),
            Math.Clamp(0.25 * (sceneLab.Val1 - _subjectLab.Val1), -8, 8),
            Math.Clamp(0.25 * (sceneLab.Val2 - _subjectLab.Val2), -8, 8));
        using var lab = new Mat();
        Cv2.CvtColor(colour, lab, ColorConversionCodes.BGR2Lab);
        Cv2.Add(lab, shift, lab);
        Cv2.CvtColor(lab, colour, ColorConversionCodes.Lab2BGR);
    }

    public void Dispose()
    {
        _colour.Dispose();
        _alpha.Dispose();
    }
}
