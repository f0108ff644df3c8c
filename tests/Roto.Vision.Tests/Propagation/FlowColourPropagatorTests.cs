using OpenCvSharp;
using Roto.Baselines;
using Roto.Vision.Propagation;

namespace Roto.Vision.Tests.Propagation;

public class FlowColourPropagatorTests(DavisClipFixture clip) : IClassFixture<DavisClipFixture>
{
    private readonly FlowColourPropagator _propagator = new();

    [Fact]
    public void FollowsAMovingCarBetterThanHoldingTheMarkedMask()
    {
        using var truth0 = clip.Truth(0);
        var tracked = Run(_propagator, [new Keyframe(0, 1, truth0)]);
        var held = Run(new NearestKeyframePropagator(), [new Keyframe(0, 1, truth0)]);
        try
        {
            var trackedJ = MeanJ(tracked, 1, 1, DavisClipFixture.Frames - 1);
            var heldJ = MeanJ(held, 1, 1, DavisClipFixture.Frames - 1);
            Assert.True(trackedJ >= 0.75, $"tracked mean J {trackedJ:F3} should stay on the car");
            Assert.True(trackedJ >= heldJ + 0.1, $"tracked mean J {trackedJ:F3} vs nearest-keyframe {heldJ:F3}");
            // Late frames are where holding the mask fails: the car has moved on.
            var trackedLast = J(tracked[^1][1], DavisClipFixture.Frames - 1);
            var heldLast = J(held[^1][1], DavisClipFixture.Frames - 1);
            Assert.True(trackedLast >= heldLast + 0.15, $"last frame J {trackedLast:F3} vs nearest-keyframe {heldLast:F3}");
        }
        finally
        {
            DisposeAll(tracked);
            DisposeAll(held);
        }
    }

    [Fact]
    public void EmitsEveryFrameInOrderAtFullSizeWithBinaryMasks()
    {
        using var truth0 = clip.Truth(0);
        var indices = new List<int>();
        var progress = new List<double>();
        _propagator.Propagate(clip.Video, [new Keyframe(0, 7, truth0)], (i, frame, masks) =>
        {
            indices.Add(i);
            Assert.Equal(new Size(clip.Video.Width, clip.Video.Height), frame.Size());
            Assert.Equal(MatType.CV_8UC3, frame.Type());
            var mask = Assert.Single(masks);
            Assert.Equal(7, mask.Key);
            Assert.Equal(frame.Size(), mask.Value.Size());
            Assert.Equal(MatType.CV_8UC1, mask.Value.Type());
            using var notBinary = new Mat();
            Cv2.InRange(mask.Value, 1, 254, notBinary);
            Assert.Equal(0, Cv2.CountNonZero(notBinary));
        }, new SyncProgress(progress), CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, DavisClipFixture.Frames), indices);
        Assert.Equal(1.0, progress[^1], 6);
        Assert.True(progress.Zip(progress.Skip(1)).All(p => p.Second >= p.First), "progress never goes back");
    }

    [Fact]
    public void KeepsTwoElementsSeparate()
    {
        using var car = clip.Truth(0);
        // A second element: a patch of the building facade above the car.
        using var facade = new Mat(car.Size(), MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(facade, new Rect(80, 40, 200, 120), Scalar.All(255), -1);
        using var overlapAtStart = new Mat();
        Cv2.BitwiseAnd(car, facade, overlapAtStart);
        Assert.Equal(0, Cv2.CountNonZero(overlapAtStart));

        var tracked = Run(_propagator, [new Keyframe(0, 1, car), new Keyframe(0, 2, facade)]);
        try
        {
            using var overlap = new Mat();
            foreach (var masks in tracked)
            {
                Assert.Equal([1, 2], masks.Keys.Order());
                Cv2.BitwiseAnd(masks[1], masks[2], overlap);
                Assert.Equal(0, Cv2.CountNonZero(overlap));
                Assert.True(Cv2.CountNonZero(masks[2]) > 0.5 * 200 * 120, "the facade patch is still tracked");
            }
            var carJ = MeanJ(tracked, 1, 1, DavisClipFixture.Frames - 1);
            Assert.True(carJ >= 0.75, $"car mean J {carJ:F3} with a second element present");
        }
        finally
        {
            DisposeAll(tracked);
        }
    }

    [Fact]
    public void FusesForwardAndBackwardBetweenTwoMarkedFrames()
    {
        var last = DavisClipFixture.Frames - 1;
        using var first = clip.Truth(0);
        using var end = clip.Truth(last);
        var forwardOnly = Run(_propagator, [new Keyframe(0, 1, first)]);
        var backwardOnly = Run(_propagator, [new Keyframe(last, 1, end)]);
        var both = Run(_propagator, [new Keyframe(0, 1, first), new Keyframe(last, 1, end)]);
        try
        {
            // Marked frames come back as they were marked.
            Assert.True(J(both[0][1], 0) > 0.97);
            Assert.True(J(both[last][1], last) > 0.97);
            // Backward tracking alone reaches the start of the video.
            var backwardJ = MeanJ(backwardOnly, 1, 1, last - 1);
            Assert.True(backwardJ >= 0.7, $"backward-only mean J {backwardJ:F3}");
            // Blending both directions beats forward tracking alone, most of all near the second marked frame.
            var fusedJ = MeanJ(both, 1, 1, last - 1);
            var forwardJ = MeanJ(forwardOnly, 1, 1, last - 1);
            Assert.True(fusedJ > forwardJ, $"fused mean J {fusedJ:F3} vs forward-only {forwardJ:F3}");
            Assert.True(J(both[last - 1][1], last - 1) > J(forwardOnly[last - 1][1], last - 1));
        }
        finally
        {
            DisposeAll(forwardOnly);
            DisposeAll(backwardOnly);
            DisposeAll(both);
        }
    }

    private List<Dictionary<int, Mat>> Run(IMaskPropagator propagator, IReadOnlyList<Keyframe> keyframes)
    {
        var result = new List<Dictionary<int, Mat>>();
        propagator.Propagate(clip.Video, keyframes, (_, _, masks) => result.Add(masks.ToDictionary(m => m.Key, m => m.Value.Clone())),
            null, CancellationToken.None);
        Assert.Equal(DavisClipFixture.Frames, result.Count);
        return result;
    }

    private double J(Mat mask, int frame)
    {
        using var truth = clip.Truth(frame);
        return DavisMetrics.Jaccard(mask, truth);
    }

    private double MeanJ(List<Dictionary<int, Mat>> tracked, int objectId, int from, int to) =>
        Enumerable.Range(from, to - from + 1).Average(t => J(tracked[t][objectId], t));

    private static void DisposeAll(List<Dictionary<int, Mat>> tracked)
    {
        foreach (var m in tracked.SelectMany(d => d.Values)) m.Dispose();
    }

    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SyncProgress(List<double> values) : IProgress<double>
    {
        public void Report(double value) => values.Add(value);
    }
}
