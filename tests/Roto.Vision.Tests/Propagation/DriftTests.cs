using OpenCvSharp;
using Roto.Baselines;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision.Features;
using Roto.Vision.Propagation;

namespace Roto.Vision.Tests.Propagation;

/// <summary>
/// A matched track that takes another thing for its element without shrinking: the dog of DAVIS "dog" on a DAVIS
/// street scene on the left, and from frame 6 on the right, while the dog of DAVIS "libby" takes its place on the left.
/// The matching carries the label onto libby's dog, whose area is close to the marked dog's, so the track never
/// collapses and the recovery for lost elements never looks; the drift check must find the marked dog again.
/// </summary>
public sealed class DriftTests : IDisposable
{
    private const int Frames = 16;
    private const int JumpAt = 6;
    private static readonly Size FrameSize = new(640, 360);
    private static readonly Point Left = new(40, 150), Right = new(380, 120);
    private readonly string _dir = TestData.TempDir("roto-drift");
    private readonly VideoSource _video;
    private readonly Mat _dogMask;

    public DriftTests()
    {
        var (dog, dogMask) = Element("dog", 2.0 / 3);
        _dogMask = dogMask;
        var (other, otherMask) = Element("libby", 1.0);
        using var street = Cv2.ImRead(Path.Combine(TestData.Davis("car-shadow"), "frames", "00000.jpg"));
        try
        {
            for (var t = 0; t < Frames; t++)
            {
                using var frame = new Mat();
                Cv2.Resize(street, frame, FrameSize, 0, 0, InterpolationFlags.Area);
                if (t >= JumpAt)
                    using (var at = new Mat(frame, new Rect(Left, other.Size()))) other.CopyTo(at, otherMask);
                using (var at = new Mat(frame, new Rect(Where(t), dog.Size()))) dog.CopyTo(at, dogMask);
                Cv2.ImWrite(Path.Combine(_dir, $"{t:D3}.png"), frame);
            }
        }
        finally
        {
            dog.Dispose();
            other.Dispose();
            otherMask.Dispose();
        }
        var path = Path.Combine(_dir, "drift.mp4");
        TestData.Ffmpeg("-framerate", "24", "-i", Path.Combine(_dir, "%03d.png"), "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", path);
        _video = new VideoSource(new MediaTools(), path, FrameSize.Width, FrameSize.Height, new FrameRate(24, 1), Frames);
    }

    /// <summary>The element of a DAVIS sequence's first frame, cut to its box and scaled; its mask beside it.</summary>
    private static (Mat Image, Mat Mask) Element(string sequence, double scale)
    {
        using var source = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "frames", "00000.jpg"));
        using var truth = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "masks", "00000.png"), ImreadModes.Grayscale);
        var box = Cv2.BoundingRect(truth);
        var image = new Mat();
        var mask = new Mat();
        var size = new Size((int)(box.Width * scale), (int)(box.Height * scale));
        using (var crop = new Mat(source, box)) Cv2.Resize(crop, image, size, 0, 0, InterpolationFlags.Area);
        using (var crop = new Mat(truth, box)) Cv2.Resize(crop, mask, size, 0, 0, InterpolationFlags.Nearest);
        Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
        return (image, mask);
    }

    private static Point Where(int t) => t < JumpAt ? Left : Right;

    [Fact]
    public void A_matched_track_that_took_a_look_alike_finds_its_element_again()
    {
        var checkedTrack = LastFramesJ(new FlowColourPropagator { Features = FrameFeatures.ForTracking() });
        var lost = LastFramesJ(new FlowColourPropagator { Features = FrameFeatures.ForTracking(), DriftCheck = false });
        Assert.True(checkedTrack >= 0.8, $"mean J of the last five frames with the drift check {checkedTrack:F3}");
        Assert.True(lost < 0.2, $"without the drift check the track should stay on libby's dog: mean J {lost:F3}");
    }

    /// <summary>Mean J over the last five frames, by when the track has had a look elsewhere.</summary>
    private double LastFramesJ(FlowColourPropagator propagator)
    {
        using var first = Truth(0);
        var scores = new List<double>();
        propagator.Propagate(_video, [new Keyframe(0, 1, first)], (t, _, masks) =>
        {
            if (t < Frames - 5) return;
            using var truth = Truth(t);
            scores.Add(DavisMetrics.Jaccard(masks[1], truth));
        }, null, CancellationToken.None);
        Assert.Equal(5, scores.Count);
        return scores.Average();
    }

    private Mat Truth(int t)
    {
        var mask = new Mat(FrameSize, MatType.CV_8UC1, Scalar.All(0));
        using var at = new Mat(mask, new Rect(Where(t), _dogMask.Size()));
        _dogMask.CopyTo(at);
        return mask;
    }

    public void Dispose()
    {
        _dogMask.Dispose();
        Directory.Delete(_dir, true);
    }
}
