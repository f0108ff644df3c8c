using OpenCvSharp;

namespace Roto.Vision.Compositing;

/// <summary>
/// A reference image's subject: its own alpha when it has a real one, otherwise GrabCut around the
/// image centre (reference images are expected to be cropped to the subject); either way cut to the
/// subject's box.
/// </summary>
public sealed class SubjectExtractor : ISubjectExtractor
{
    public Subject Extract(Mat image)
    {
        if (OwnAlpha(image) is { } own) return own;
        using var bgr = ToBgr(image);

        var scale = Math.Min(1.0, 400.0 / Math.Max(bgr.Width, bgr.Height));
        using var small = new Mat();
        Cv2.Resize(bgr, small, new Size(Math.Max(1, (int)(bgr.Width * scale)), Math.Max(1, (int)(bgr.Height * scale))), 0, 0, InterpolationFlags.Area);
        using var gc = new Mat(small.Size(), MatType.CV_8UC1, Scalar.All(0));
        var rect = new Rect(small.Width / 20, small.Height / 20, small.Width * 9 / 10, small.Height * 9 / 10);
        using var bg = new Mat();
        using var fg = new Mat();
        Cv2.GrabCut(small, gc, rect, bg, fg, 4, GrabCutModes.InitWithRect);
        using var sure = new Mat();
        using var probable = new Mat();
        Cv2.Compare(gc, Scalar.All((int)GrabCutClasses.FGD), sure, CmpTypes.EQ);
        Cv2.Compare(gc, Scalar.All((int)GrabCutClasses.PR_FGD), probable, CmpTypes.EQ);
        using var smallAlpha = new Mat();
        Cv2.BitwiseOr(sure, probable, smallAlpha);
        if (Cv2.CountNonZero(smallAlpha) < smallAlpha.Total() / 50) smallAlpha.SetTo(Scalar.All(255));
        using var fullAlpha = new Mat();
        Cv2.Resize(smallAlpha, fullAlpha, bgr.Size(), 0, 0, InterpolationFlags.Linear);
        Cv2.GaussianBlur(fullAlpha, fullAlpha, new Size(5, 5), 0);

        using var result = new Mat();
        var parts = bgr.Split();
        try
        {
            Cv2.Merge([parts[0], parts[1], parts[2], fullAlpha], result);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
        return new Subject(CropToAlpha(result));
    }

    /// <summary>The image's subject by its own alpha, when it has a real one (some pixel less than opaque); else null.</summary>
    internal static Subject? OwnAlpha(Mat image)
    {
        if (image.Channels() != 4) return null;
        using var alpha = image.ExtractChannel(3);
        Cv2.MinMaxLoc(alpha, out double min, out _);
        return min < 250 ? new Subject(CropToAlpha(image)) : null;
    }

    /// <summary>A BGR copy of a BGR, BGRA or grey image; the caller disposes it.</summary>
    internal static Mat ToBgr(Mat image)
    {
        var bgr = new Mat();
        if (image.Channels() == 4) Cv2.CvtColor(image, bgr, ColorConversionCodes.BGRA2BGR);
        else if (image.Channels() == 1) Cv2.CvtColor(image, bgr, ColorConversionCodes.GRAY2BGR);
        else image.CopyTo(bgr);
        return bgr;
    }

    /// <summary>
    /// The image cut to the box of its visible pixels: a subject is fitted and placed by its box, so transparent
    /// margins would make it small and off-centre.
    /// </summary>
    internal static Mat CropToAlpha(Mat bgra)
    {
        using var alpha = bgra.ExtractChannel(3);
        using var visible = new Mat();
        Cv2.Threshold(alpha, visible, 8, 255, ThresholdTypes.Binary);
        var box = Cv2.BoundingRect(visible);
        if (box.Width < 1 || box.Height < 1) return bgra.Clone();
        using var roi = bgra[box];
        return roi.Clone();
    }
}
