using OpenCvSharp;
using Roto.Baselines;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision.Propagation;

namespace Roto.Vision.Tests.Propagation;

/// <summary>
/// An element that jumps far out of the flow's reach (a cut in the video, or a long occlusion): the dog of DAVIS
/// "dog" pasted on a DAVIS street scene on the left for six frames, then on the right. The tracker must find it again
/// from the marked frame's features instead of staying where it was.
/// </summary>
public sealed class RecoveryTests : IDisposable
{
    private const int Frames = 12;
    private const int JumpAt = 6;
    private static readonly Size FrameSize = new(640, 360);
    private static readonly Point Before = new(40, 150), After = new(380, 120);
    private readonly string _dir = TestData.TempDir("roto-recovery");
    private readonly VideoSource _video;
    private readonly Mat _dog;
    private readonly Mat _dogMask;

    public RecoveryTests()
    {
        using var source = Cv2.ImRead(Path.Combine(TestData.Davis("dog"), "frames", "00000.jpg"));
        using var truth = Cv2.ImRead(Path.Combine(TestData.Davis("dog"), "masks", "00000.png"), ImreadModes.Grayscale);
        var box = Cv2.BoundingRect(truth);
        _dog = new Mat();
        _dogMask = new Mat();
        using (var crop = new Mat(source, box)) Cv2.Resize(crop, _dog, new Size(box.Width * 2 / 3, box.Height * 2 / 3), 0, 0, InterpolationFlags.Area);
        using (var crop = new Mat(truth, box)) Cv2.Resize(crop, _dogMask, _dog.Size(), 0, 0, InterpolationFlags.Nearest);
        Cv2.Threshold(_dogMask, _dogMask, 127, 255, ThresholdTypes.Binary);

        using var street = Cv2.ImRead(Path.Combine(TestData.Davis("car-shadow"), "frames", "00000.jpg"));
        for (var t = 0; t < Frames; t++)
        {
            using var frame = new Mat();
            Cv2.Resize(street, frame, FrameSize, 0, 0, InterpolationFlags.Area);
            using (var at = new Mat(frame, new Rect(Where(t), _dog.Size()))) _dog.CopyTo(at, _dogMask);
            Cv2.ImWrite(Path.Combine(_dir, $"{t:D3}.png"), frame);
        }
        var path = Path.Combine(_dir, "jump.mp4");
        TestData.Ffmpeg("-framerate", "24", "-i", Path.Combine(_dir, "%03d.png"), "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", path);
        _video = new VideoSource(new MediaTools(), path, FrameSize.Width, FrameSize.Height, new FrameRate(24, 1), Frames);
    }

    private static Point Where(int t) => t < JumpAt ? Before : After;

    private Mat Truth(int t)
    {
        var mask = new Mat(FrameSize, MatType.CV_8UC1, Scalar.All(0));
        using var at = new Mat(mask, new Rect(Where(t), _dogMask.Size()));
        _dogMask.CopyTo(at);
        return mask;
    }

    [Fact]
    public void Finds_an_element_again_after_it_jumps_out_of_the_flows_reach()
    {
        var recovered = MeanJAfterJump(new FlowColourPropagator());
        var stuck = MeanJAfterJump(new FlowColourPropagator { Recovery = null });
        Assert.True(recovered >= 0.6, $"mean J after the jump with recovery {recovered:F3}");
        Assert.True(stuck < 0.2, $"without recovery the track should stay behind: mean J {stuck:F3}");
    }

    /// <summary>Mean J over the frames after the jump, leaving out the frame of the jump itself (found there or on the next).</summary>
    private double MeanJAfterJump(FlowColourPropagator propagator)
    {
        using var first = Truth(0);
        var scores = new List<double>();
        propagator.Propagate(_video, [new Keyframe(0, 1, first)], (t, _, masks) =>
        {
            if (t <= JumpAt + 1) return;
            using var truth = Truth(t);
            scores.Add(DavisMetrics.Jaccard(masks[1], truth));
        }, null, CancellationToken.None);
        Assert.Equal(Frames - JumpAt - 2, scores.Count);
        return scores.Average();
    }

    public void Dispose()
    {
        _dog.Dispose();
        _dogMask.Dispose();
        Directory.Delete(_dir, true);
    }
}
