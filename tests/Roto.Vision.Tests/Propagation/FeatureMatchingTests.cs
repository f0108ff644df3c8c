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
