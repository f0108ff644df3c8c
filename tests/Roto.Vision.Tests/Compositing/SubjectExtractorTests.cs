using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Compositing;

namespace Roto.Vision.Tests.Compositing;

public sealed class SubjectExtractorTests
{
    /// <summary>A PNG whose alpha is a real DAVIS mask: the subject keeps exactly that alpha, cut to its box.</summary>
    [Fact]
    public void Png_alpha_is_used_as_it_is()
    {
        var dir = TestData.TempDir("roto-subject");
        try
        {
            using var bgr = Cv2.ImRead(Path.Combine(TestData.Davis("camel"), "frames", "00000.jpg"));
            using var mask = Cv2.ImRead(Path.Combine(TestData.Davis("camel"), "masks", "00000.png"), ImreadModes.Grayscale);
            Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
            var parts = bgr.Split();
            using var bgra = new Mat();
            Cv2.Merge([parts[0], parts[1], parts[2], mask], bgra);
            foreach (var p in parts) p.Dispose();
            var png = Path.Combine(dir, "camel.png");
            Cv2.ImWrite(png, bgra);

            using var read = Cv2.ImRead(png, ImreadModes.Unchanged);
            var subject = new SubjectExtractor().Extract(read);
            using var alpha = subject.Bgra.ExtractChannel(3);
            var box = Cv2.BoundingRect(mask);
            Assert.Equal(box.Size, alpha.Size());
            using var expected = mask[box];
            using var diff = new Mat();
            Cv2.Absdiff(alpha, expected, diff);
            Assert.Equal(0, Cv2.CountNonZero(diff));
            using var colour = new Mat();
            Cv2.CvtColor(subject.Bgra, colour, ColorConversionCodes.BGRA2BGR);
            using var expectedColour = bgr[box];
            Cv2.Absdiff(colour, expectedColour, colour);
            Assert.Equal(0.0, Cv2.Sum(colour).Val0 + Cv2.Sum(colour).Val1 + Cv2.Sum(colour).Val2);
            subject.Bgra.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
