using OpenCvSharp;
using Roto.Vision.Segmentation;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Segmentation;

public sealed class BandGrabCutTests
{
    [Theory]
    [InlineData("blackswan")]
    [InlineData("camel")]
    [InlineData("horsejump-high")]
    public void Cuts_as_OpenCVs_GrabCut_does_and_moves_a_rough_outline_towards_the_element(string sequence)
    {
        using var frame = Frame(sequence);
        using var truthFull = Truth(sequence);
        using var work = new Mat();
        Cv2.Resize(frame, work, new Size(480, 270), 0, 0, InterpolationFlags.Area);
        using var truth = new Mat();
        Cv2.Resize(truthFull, truth, work.Size(), 0, 0, InterpolationFlags.Nearest);
        // A rough outline: the element shrunk by a few pixels, as a coarse selection misses its edge.
        using var rough = new Mat();
        Cv2.Erode(truth, rough, null, iterations: 4);
        using var ours = Classes(rough);
        using var theirs = Classes(rough);
        using var before = ours.Clone();

        BandGrabCut.Run(work, ours, iterations: 1, seed: 7);
        using var bg = new Mat();
        using var fg = new Mat();
        Cv2.SetTheRNG(7);
        Cv2.GrabCut(work, theirs, new Rect(), bg, fg, 1, GrabCutModes.InitWithMask);

        using var oursMask = Foreground(ours);
        using var theirsMask = Foreground(theirs);
        using var roughMask = Foreground(before);
        Assert.True(Iou(oursMask, theirsMask) >= 0.95, $"agreement with OpenCV's GrabCut {Iou(oursMask, theirsMask):F3}");
        Assert.True(Iou(oursMask, truth) > Iou(roughMask, truth) + 0.02, $"IoU with the truth {Iou(oursMask, truth):F3}, rough outline {Iou(roughMask, truth):F3}");
        // Sure pixels stay as they were: only the band is cut.
        using var sure = new Mat();
        Cv2.InRange(before, 0, 1, sure);
        using var changed = new Mat();
        Cv2.Compare(before, ours, changed, CmpTypes.NE);
        Cv2.BitwiseAnd(changed, sure, changed);
        Assert.Equal(0, Cv2.CountNonZero(changed));
    }

    /// <summary>OpenCV's class map: the outline as probable element, a 12-pixel band around it probable background, sure background beyond.</summary>
    private static Mat Classes(Mat selection)
    {
        var classes = new Mat(selection.Size(), MatType.CV_8UC1, Scalar.All((int)GrabCutClasses.BGD));
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(25, 25));
        using var grown = new Mat();
        Cv2.Dilate(selection, grown, kernel);
        classes.SetTo(Scalar.All((int)GrabCutClasses.PR_BGD), grown);
        classes.SetTo(Scalar.All((int)GrabCutClasses.PR_FGD), selection);
        return classes;
    }

    private static Mat Foreground(Mat classes)
    {
        using var odd = new Mat();
        Cv2.BitwiseAnd(classes, Scalar.All(1), odd);
        var mask = new Mat();
        Cv2.Compare(odd, Scalar.All(1), mask, CmpTypes.EQ);
        return mask;
    }
}
