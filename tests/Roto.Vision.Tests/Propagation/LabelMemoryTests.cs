using OpenCvSharp;
using Roto.Vision.Features;
using Roto.Vision.Propagation;

namespace Roto.Vision.Tests.Propagation;

/// <summary>The feature memory keeps marked frames' shares of each cell, but remembers tracked frames as masks.</summary>
public class LabelMemoryTests
{
    private const int Rows = 6, Cols = 8, Channels = 16;

    [Fact]
    public void A_marked_frame_gives_its_share_of_each_cell()
    {
        using var grid = RandomGrid(1);
        using var share = new Mat(Rows * 4, Cols * 4, MatType.CV_32FC1, Scalar.All(0.45));
        using var memory = new LabelMemory(grid, share, radius: 2, recentFrames: 3);
        using var predicted = memory.Predict(grid, new Size(Cols * 4, Rows * 4));
        Cv2.MinMaxLoc(predicted, out double min, out double max);
        Assert.InRange(min, 0.44, 0.46);
        Assert.InRange(max, 0.44, 0.46);
    }

    [Fact]
    public void A_tracked_frame_is_remembered_as_its_mask_so_an_unsure_prediction_adds_no_element()
    {
        using var grid = RandomGrid(2);
        using var none = new Mat(Rows * 4, Cols * 4, MatType.CV_32FC1, Scalar.All(0));
        using var unsure = new Mat(Rows * 4, Cols * 4, MatType.CV_32FC1, Scalar.All(0.45));
        using var sure = new Mat(Rows * 4, Cols * 4, MatType.CV_32FC1, Scalar.All(0.55));
        using var memory = new LabelMemory(grid, none, radius: 2, recentFrames: 1);

        memory.Remember(grid, unsure);
        using (var predicted = memory.Predict(grid, none.Size()))
        {
            Cv2.MinMaxLoc(predicted, out _, out double max);
            Assert.True(max < 0.01, $"a 0.45 prediction fed back as {max:F3}");
        }
        // Only the newest tracked frame is kept (recentFrames: 1), and 0.55 counts as the element.
        memory.Remember(grid, sure);
        using (var predicted = memory.Predict(grid, none.Size()))
        {
            Cv2.MinMaxLoc(predicted, out double min, out _);
            Assert.True(min > 0.4, $"a 0.55 prediction fed back as {min:F3}");
        }
    }

    /// <summary>Random features: each cell resembles itself far more than any other.</summary>
    private static FeatureGrid RandomGrid(int seed)
    {
        var random = new Random(seed);
        var data = new float[Channels * Rows * Cols];
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble() - 0.5f;
        return FeatureGrid.From(new DenseFeatureMap(8, Channels, Rows, Cols, data));
    }
}
