using OpenCvSharp;

namespace Roto.Vision.Features;

/// <summary>
/// One frame's dense features as a matrix with one L2-normalised row per grid cell (row-major cells), so that the
/// cosine similarity of every cell of one frame to every cell of another is a single matrix product.
/// </summary>
public sealed class FeatureGrid : IDisposable
{
    private FeatureGrid(int rows, int cols, Mat cells)
    {
        Rows = rows;
        Cols = cols;
        Cells = cells;
    }

    public int Rows { get; }
    public int Cols { get; }
    /// <summary>CV_32FC1, (Rows·Cols) × channels, each row of unit length (or zero where the features are all zero).</summary>
    public Mat Cells { get; }

    public static unsafe FeatureGrid From(DenseFeatureMap map)
    {
        var count = map.Height * map.Width;
        var cells = new Mat(count, map.Channels, MatType.CV_32FC1);
        // The map is channel-major; transposing it through a Mat view costs one copy.
        fixed (float* data = map.Data)
        {
            using var planes = Mat.FromPixelData(map.Channels, count, MatType.CV_32FC1, (IntPtr)data);
            Cv2.Transpose(planes, cells);
        }
        for (var i = 0; i < count; i++)
        {
            var row = (float*)cells.Ptr(i);
            var sum = 0f;
            for (var c = 0; c < map.Channels; c++) sum += row[c] * row[c];
            if (sum <= 0) continue;
            var inv = 1f / MathF.Sqrt(sum);
            for (var c = 0; c < map.Channels; c++) row[c] *= inv;
        }
        return new FeatureGrid(map.Height, map.Width, cells);
    }

    public void Dispose() => Cells.Dispose();
}

/// <summary>
/// Computes <see cref="FeatureGrid"/>s of frames with the ResNet-18 at stride 8 (its second residual stage: mid-level
/// parts and textures, fine enough to tell an element from similar background). One network for the whole process:
/// loading it costs far more than a frame.
/// </summary>
public sealed class FrameFeatures
{
    private static readonly Lazy<ResNetFeatureExtractor> Shared = new(() => new ResNetFeatureExtractor([Stride]));

    public const int Stride = 8;

    /// <summary>Most pixels the network sees; small elements widen the working frame, but cost grows with the square of the grid.</summary>
    public int MaxPixels { get; init; } = 448 * 256;

    /// <summary>The network sees the frame at about its own size (sides rounded to multiples of 32), up to <see cref="MaxPixels"/>.</summary>
    public FeatureGrid Compute(Mat bgr)
    {
        var input = ResNetFeatureExtractor.InputSizeFor(bgr.Size(), Math.Min(MaxPixels, bgr.Width * bgr.Height));
        return FeatureGrid.From(Shared.Value.Extract(bgr, input)[0]);
    }
}
