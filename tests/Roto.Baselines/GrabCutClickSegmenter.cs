using OpenCvSharp;

using Roto.Vision;

namespace Roto.Baselines;

/// <summary>
/// A simple click segmenter: GrabCut at a working resolution, seeded with the clicks as sure
/// foreground/background and a box around the include clicks as the probable region.
/// </summary>
public sealed class GrabCutClickSegmenter : IClickSegmenter
{
    private const int WorkingWidth = 480;

    public Mat Segment(SegmentRequest request)
    {
        var frame = request.Frame;
        var include = request.Clicks.Where(c => c.Include).ToList();
        if (include.Count == 0) return new Mat(frame.Rows, frame.Cols, MatType.CV_8UC1, Scalar.All(0));

        var scale = Math.Min(1.0, (double)WorkingWidth / frame.Width);
        using var small = new Mat();
        Cv2.Resize(frame, small, new Size(Math.Max(1, (int)Math.Round(frame.Width * scale)), Math.Max(1, (int)Math.Round(frame.Height * scale))), 0, 0, InterpolationFlags.Area);
        int w = small.Width, h = small.Height;

        // The probable region: a box around the include clicks, grown to a fraction of the frame.
        double minX = include.Min(c => c.X), maxX = include.Max(c => c.X), minY = include.Min(c => c.Y), maxY = include.Max(c => c.Y);
        var padX = Math.Max(0.18, (maxX - minX) * 0.6);
        var padY = Math.Max(0.25, (maxY - minY) * 0.6);
        var rect = new Rect(
            (int)(Math.Clamp(minX - padX, 0, 1) * w), (int)(Math.Clamp(minY - padY, 0, 1) * h), 0, 0);
        rect.Width = Math.Max(2, (int)(Math.Clamp(maxX + padX, 0, 1) * w) - rect.X);
        rect.Height = Math.Max(2, (int)(Math.Clamp(maxY + padY, 0, 1) * h) - rect.Y);

        using var gc = new Mat(h, w, MatType.CV_8UC1, Scalar.All((int)GrabCutClasses.BGD));
        gc[rect].SetTo(Scalar.All((int)GrabCutClasses.PR_BGD));
        var seedRadius = Math.Max(3, w / 60);
        foreach (var c in include)
            Cv2.Circle(gc, new Point(c.X * w, c.Y * h), seedRadius * 3, Scalar.All((int)GrabCutClasses.PR_FGD), -1);
        foreach (var c in request.Clicks)
            Cv2.Circle(gc, new Point(c.X * w, c.Y * h), seedRadius, Scalar.All(c.Include ? (int)GrabCutClasses.FGD : (int)GrabCutClasses.BGD), -1);

        using var bgModel = new Mat();
        using var fgModel = new Mat();
        Cv2.GrabCut(small, gc, rect, bgModel, fgModel, 4, GrabCutModes.InitWithMask);

        using var fg = new Mat();
        using var prFg = new Mat();
        Cv2.Compare(gc, Scalar.All((int)GrabCutClasses.FGD), fg, CmpTypes.EQ);
        Cv2.Compare(gc, Scalar.All((int)GrabCutClasses.PR_FGD), prFg, CmpTypes.EQ);
        using var smallMask = new Mat();
        Cv2.BitwiseOr(fg, prFg, smallMask);
        using var kept = KeepClickedComponents(smallMask, include, w, h);

        var full = new Mat();
        Cv2.Resize(kept, full, frame.Size(), 0, 0, InterpolationFlags.Linear);
        Cv2.Threshold(full, full, 127, 255, ThresholdTypes.Binary);
        return full;
    }

    /// <summary>Keeps only the connected regions that contain an include click: one clean region per click.</summary>
    private static Mat KeepClickedComponents(Mat mask, IReadOnlyList<Click> include, int w, int h)
    {
        using var labels = new Mat();
        Cv2.ConnectedComponents(mask, labels, PixelConnectivity.Connectivity8);
        var keep = new HashSet<int>();
        foreach (var c in include)
        {
            var label = labels.At<int>(Math.Clamp((int)(c.Y * h), 0, h - 1), Math.Clamp((int)(c.X * w), 0, w - 1));
            if (label > 0) keep.Add(label);
        }
        var result = new Mat(mask.Size(), MatType.CV_8UC1, Scalar.All(0));
        using var one = new Mat();
        foreach (var label in keep)
        {
            Cv2.Compare(labels, Scalar.All(label), one, CmpTypes.EQ);
            result.SetTo(Scalar.All(255), one);
        }
        return result;
    }
}
