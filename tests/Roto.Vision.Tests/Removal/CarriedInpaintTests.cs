using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Removal;

namespace Roto.Vision.Tests.Removal;

public sealed class CarriedInpaintTests
{
    private static readonly Size FrameSize = new(320, 180);
    private static readonly Rect Box = new(130, 60, 60, 60);

    /// <summary>
    /// What no frame shows is inpainted once and carried while the hole's surroundings stay as they were; when they
    /// change (another real scene around the same hole), the carried fill would no longer match, and the hole is
    /// inpainted afresh from what is around it now.
    /// </summary>
    [Fact]
    public void A_fill_is_carried_over_a_still_background_and_inpainted_afresh_when_the_surroundings_change()
    {
        using var still = DavisFrame("bmx-trees", 0);
        using var other = DavisFrame("blackswan", 0);
        using var hole = Hole();
        var path = new CameraPath([Homography.Identity, Homography.Identity, Homography.Identity]);
        using var inpaint = new CarriedInpaint();

        using var first = Complete(inpaint, 0, still, hole, path);
        Assert.Equal(1, inpaint.Keyframes);
        using var carried = Complete(inpaint, 1, still, hole, path);
        Assert.Equal(1, inpaint.Keyframes);
        Assert.Equal(0, DifferingPixels(first, carried, hole));

        using var afterChange = Complete(inpaint, 2, other, hole, path);
        Assert.Equal(2, inpaint.Keyframes);
        using var fresh = new CarriedInpaint();
        using var expected = Complete(fresh, 0, other, hole, path);
        Assert.Equal(0, DifferingPixels(expected, afterChange, hole));
        Assert.True(DifferingPixels(first, afterChange, hole) > Cv2.CountNonZero(hole) / 2, "the fill made for the first scene was carried into the second");
    }

    /// <summary>With the threshold out of reach the same change is carried through: the rule, not chance, refreshed the fill above.</summary>
    [Fact]
    public void A_fill_is_carried_through_any_change_when_the_threshold_allows_it()
    {
        using var still = DavisFrame("bmx-trees", 0);
        using var other = DavisFrame("blackswan", 0);
        using var hole = Hole();
        var path = new CameraPath([Homography.Identity, Homography.Identity]);
        using var inpaint = new CarriedInpaint(staleAfter: 255);

        using var first = Complete(inpaint, 0, still, hole, path);
        using var carried = Complete(inpaint, 1, other, hole, path);
        Assert.Equal(1, inpaint.Keyframes);
        Assert.Equal(0, DifferingPixels(first, carried, hole));
    }

    private static Mat Complete(CarriedInpaint inpaint, int index, Mat frame, Mat hole, CameraPath path)
    {
        var fill = new Mat(Box.Size, MatType.CV_8UC3, Scalar.All(0));
        using var missing = hole.Clone();
        inpaint.Complete(index, frame, Box, hole, fill, missing, path);
        return fill;
    }

    /// <summary>A disc in the middle of the box, with background on every side of it.</summary>
    private static Mat Hole()
    {
        var hole = new Mat(Box.Size, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Circle(hole, new Point(Box.Width / 2, Box.Height / 2), 20, Scalar.All(255), -1);
        return hole;
    }

    private static Mat DavisFrame(string sequence, int index)
    {
        using var source = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "frames", $"{index:D5}.jpg"));
        var frame = new Mat();
        Cv2.Resize(source, frame, FrameSize, 0, 0, InterpolationFlags.Area);
        return frame;
    }

    private static int DifferingPixels(Mat a, Mat b, Mat where)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var grey = new Mat();
        Cv2.CvtColor(diff, grey, ColorConversionCodes.BGR2GRAY);
        Cv2.Threshold(grey, grey, 2, 255, ThresholdTypes.Binary);
        using var outside = new Mat();
        Cv2.BitwiseNot(where, outside);
        grey.SetTo(Scalar.All(0), outside);
        return Cv2.CountNonZero(grey);
    }
}
