using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Learned;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Learned;

public sealed class SaliencySubjectExtractorTests(LearnedModelsFixture fixture) : IClassFixture<LearnedModelsFixture>
{
    [Fact]
    public void A_plain_photo_gives_its_subject_not_the_whole_photo()
    {
        var extractor = new SaliencySubjectExtractor(fixture.Models);
        using var photo = Frame("blackswan");
        using var truth = Truth("blackswan");

        using var mask = extractor.SubjectMask(photo);
        var iou = Iou(mask, truth);
        Assert.True(iou >= 0.7, $"subject IoU with the swan {iou:0.000}");

        var subject = extractor.Extract(photo);
        using var bgra = subject.Bgra;
        Assert.Equal(4, bgra.Channels());
        var box = Cv2.BoundingRect(truth);
        // Cut to the subject's box, give or take a few pixels.
        Assert.InRange(bgra.Width, box.Width * 0.85, box.Width * 1.15);
        Assert.InRange(bgra.Height, box.Height * 0.85, box.Height * 1.15);
        using var alpha = bgra.ExtractChannel(3);
        using var transparent = new Mat();
        Cv2.Threshold(alpha, transparent, 8, 255, ThresholdTypes.BinaryInv);
        Assert.True(Cv2.CountNonZero(transparent) > 0.1 * alpha.Total(), "the background around the swan stayed opaque");
    }

    [Fact]
    public void An_image_with_its_own_alpha_keeps_it()
    {
        var extractor = new SaliencySubjectExtractor(fixture.Models);
        using var image = new Mat(100, 100, MatType.CV_8UC4, Scalar.All(0));
        Cv2.Circle(image, new Point(50, 50), 20, new Scalar(0, 0, 255, 255), -1);

        var subject = extractor.Extract(image);
        using var bgra = subject.Bgra;
        Assert.InRange(bgra.Width, 39, 42);
        Assert.InRange(bgra.Height, 39, 42);
    }
}
