using OpenCvSharp;

namespace Roto.Vision.Segmentation;

/// <summary>
/// Pixel-level edges for a superpixel selection: GrabCut at working resolution, started from the selection as
/// probable element and probable background inside a band around its outline, sure background beyond the band and
/// under exclude clicks, sure element under include clicks. Superpixel outlines are blocky where the element is thin or
/// its edge has little contrast; GrabCut's colour models per pixel follow the real edge inside the band.
/// </summary>
public static class GrabCutRefiner
{
    /// <param name="work">The frame at working resolution, BGR.</param>
    /// <param name="selection">CV_8UC1 0/255 at working resolution.</param>
    /// <returns>CV_8UC1 0/255 at working resolution.</returns>
    /// <param name="contrast">The working image's contrast weights, when cached.</param>
    public static Mat Refine(Mat work, Mat selection, IReadOnlyList<Click> clicks, int band, int iterations, PixelContrast? contrast = null)
    {
        int w = work.Width, h = work.Height;
        using var gc = new Mat(h, w, MatType.CV_8UC1, Scalar.All((int)GrabCutClasses.BGD));
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * band + 1, 2 * band + 1));
        using var grown = new Mat();
        Cv2.Dilate(selection, grown, kernel);
        gc.SetTo(Scalar.All((int)GrabCutClasses.PR_BGD), grown);
        gc.SetTo(Scalar.All((int)GrabCutClasses.PR_FGD), selection);
        var radius = Math.Max(2, w / 120);
        foreach (var c in clicks)
            Cv2.Circle(gc, new Point(c.X * w, c.Y * h), radius, Scalar.All(c.Include ? (int)GrabCutClasses.FGD : (int)GrabCutClasses.BGD), -1);

        // A fixed seed for the colour models' k-means: the same clicks give the same mask.
        BandGrabCut.Run(work, gc, iterations, 0x526f746f, contrast);

        // FGD (1) and PR_FGD (3) are the odd classes.
        using var odd = new Mat();
        Cv2.BitwiseAnd(gc, Scalar.All(1), odd);
        var result = new Mat();
        Cv2.Compare(odd, Scalar.All(1), result, CmpTypes.EQ);
        return result;
    }
}
