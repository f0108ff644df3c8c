using OpenCvSharp;
using Roto.Baselines;
using Roto.Vision.Features;
using Roto.Vision.Propagation;

namespace Roto.Vision.Tests.Propagation;

/// <summary>The feature-matching term of the propagator: features that tell the element apart, and tracking with them.</summary>
public class FeatureMatchingTests(DavisClipFixture clip) : IClassFixture<DavisClipFixture>
{
    [Fact]
    public void CarCellsOfALaterFrameMostResembleCarCellsOfTheMarkedFrame()
    {
        var last = DavisClipFixture.Frames - 1;
        var frames = ReadFrames();
        try
        {
            var features = new FrameFeatures();
            using var first = features.Compute(frames[0]);
            using var later = features.Compute(frames[last]);
            using var truth0 = clip.Truth(0);
            using var truthLast = clip.Truth(last);
            var onCar0 = CellLabels(truth0, first);
            var onCarLast = CellLabels(truthLast, later);
            Assert.Equal(first.Cells.Rows, onCar0.Length);

            using var similarity = new Mat();
            Cv2.Gemm(later.Cells, first.Cells, 1, new Mat(), 0, similarity, GemmFlags.B_T);
            int carCells = 0, matchedToCar = 0, backgroundCells = 0, backgroundMatchedToCar = 0;
            var width = similarity.Cols;
            for (var i = 0; i < onCarLast.Length; i++)
            {
                var best = 0;
                for (var j = 1; j < width; j++) if (similarity.At<float>(i, j) > similarity.At<float>(i, best)) best = j;
                var toCar = onCar0[best];
                if (onCarLast[i]) { carCells++; if (toCar) matchedToCar++; }
                else { backgroundCells++; if (toCar) backgroundMatchedToCar++; }
            }
            Assert.True(carCells >= 20, $"{carCells} car cells");
            var carRate = (double)matchedToCar / carCells;
            var backgroundRate = (double)backgroundMatchedToCar / backgroundCells;
            Assert.True(carRate >= 0.6, $"only {carRate:P0} of the car's cells match a car cell of the marked frame");
            Assert.True(backgroundRate <= 0.1, $"{backgroundRate:P0} of background cells match a car cell");
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    [Fact]
    public void TracksTheCarWithFeatureMatchingOn()
    {
        using var truth0 = clip.Truth(0);
        var propagator = new FlowColourPropagator { Features = FrameFeatures.ForTracking() };
        var j = new List<double>();
        propagator.Propagate(clip.Video, [new Keyframe(0, 1, truth0)], (i, _, masks) =>
        {
            if (i == 0) return;
            using var truth = clip.Truth(i);
            j.Add(DavisMetrics.Jaccard(masks[1], truth));
        }, null, CancellationToken.None);
        Assert.Equal(DavisClipFixture.Frames - 1, j.Count);
        Assert.True(j.Average() >= 0.75, $"mean J {j.Average():F3}");
        Assert.True(j[^1] >= 0.65, $"last frame J {j[^1]:F3}: the car is still followed at the end");
    }

    /// <summary>
    /// A poor second mark (a small patch of the facade, as a one-click correction of a far, small element can be) is
    /// soon lost by its own direction: the frames between the marks keep the car that the first mark's direction
    /// follows, instead of taking the lost direction's nothing from the gap's midpoint on.
    /// </summary>
    [Fact]
    public void A_direction_that_loses_a_poor_mark_leaves_the_gap_to_the_other_one()
    {
        var last = DavisClipFixture.Frames - 1;
        using var truth0 = clip.Truth(0);
        using var patch = new Mat(truth0.Size(), MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(patch, new Rect(100, 60, 12, 12), Scalar.All(255), -1);
        var propagator = new FlowColourPropagator { Features = FrameFeatures.ForTracking() };
        var j = new List<double>();
        var areas = new List<int>();
        propagator.Propagate(clip.Video, [new Keyframe(0, 1, truth0), new Keyframe(last, 1, patch)], (i, _, masks) =>
        {
            using var truth = clip.Truth(i);
            j.Add(DavisMetrics.Jaccard(masks[1], truth));
            areas.Add(Cv2.CountNonZero(masks[1]));
        }, null, CancellationToken.None);
        Assert.Equal(DavisClipFixture.Frames, j.Count);
        // The marked frames are as marked.
        Assert.True(j[0] > 0.97);
        Assert.Equal(144, areas[last]);
        // The second half of the gap, where the poor mark's direction would have outweighed the other.
        var secondHalf = Enumerable.Range(last / 2 + 1, last - last / 2 - 1).Select(t => j[t]).ToList();
        Assert.True(secondHalf.Min() >= 0.6, $"J on frames {last / 2 + 1}–{last - 1}: {string.Join(", ", secondHalf.Select(v => v.ToString("F2")))}");
    }

    /// <summary>Whether most of each grid cell is on the element.</summary>
    private static bool[] CellLabels(Mat mask, FeatureGrid grid)
    {
        using var small = new Mat();
        Cv2.Resize(mask, small, new Size(grid.Cols, grid.Rows), 0, 0, InterpolationFlags.Area);
        var labels = new bool[grid.Rows * grid.Cols];
        for (var y = 0; y < grid.Rows; y++)
            for (var x = 0; x < grid.Cols; x++) labels[y * grid.Cols + x] = small.At<byte>(y, x) > 127;
        return labels;
    }

    private List<Mat> ReadFrames()
    {
        var frames = new List<Mat>();
        using var reader = clip.Video.OpenReader(320, 180);
        while (reader.ReadFrame() is { } frame) frames.Add(frame);
        Assert.Equal(DavisClipFixture.Frames, frames.Count);
        return frames;
    }
}
