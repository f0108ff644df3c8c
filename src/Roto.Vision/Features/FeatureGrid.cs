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

    /// <summary>
    /// The fine map's cells, each followed by the coarse map sampled (bilinear) at the same place: both parts of unit
    /// length, the coarse one scaled by <paramref name="weight"/>, the whole of unit length again, so that a dot
    /// product is a weighted mean of the two cosine similarities.
    /// </summary>
    public static unsafe FeatureGrid Concat(DenseFeatureMap fine, DenseFeatureMap coarse, float weight)
    {
        using var fineCells = From(fine);
        using var coarseCells = From(coarse);
        // The coarse cells onto the fine grid: the cell rows seen as an image with one channel per feature.
        var count = fine.Height * fine.Width;
        using var coarseImage = coarseCells.Cells.Reshape(coarse.Channels, coarse.Height);
        using var upImage = new Mat();
        Cv2.Resize(coarseImage, upImage, new Size(fine.Width, fine.Height), 0, 0, InterpolationFlags.Linear);
        using var up = upImage.Reshape(1, count);
        var cells = new Mat(count, fine.Channels + coarse.Channels, MatType.CV_32FC1);
        var norm = 1f / MathF.Sqrt(1 + weight * weight);
        for (var i = 0; i < count; i++)
        {
            var r = (float*)cells.Ptr(i);
            var pa = (float*)fineCells.Cells.Ptr(i);
            var pb = (float*)up.Ptr(i);
            var sum = 0f;
            for (var c = 0; c < coarse.Channels; c++) sum += pb[c] * pb[c];
            var inv = sum > 0 ? 1f / MathF.Sqrt(sum) : 0f;
            for (var c = 0; c < fine.Channels; c++) r[c] = pa[c] * norm;
            for (var c = 0; c < coarse.Channels; c++) r[fine.Channels + c] = pb[c] * inv * weight * norm;
        }
        return new FeatureGrid(fine.Height, fine.Width, cells);
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
    private static readonly Lazy<ResNetFeatureExtractor> FineOnly = new(() => new ResNetFeatureExtractor([Stride]));
    private static readonly Lazy<ResNetFeatureExtractor> FineAndCoarse = new(() => new ResNetFeatureExtractor([Stride, 2 * Stride]));

    public const int Stride = 8;

    /// <summary>Most pixels the network sees; small elements widen the working frame, but cost grows with the square of the grid.</summary>
    public int MaxPixels { get; init; } = 448 * 256;

    /// <summary>
    /// Weight of the third stage (stride 16: whole parts, more semantic) sampled onto the stride-8 cells beside the
    /// second stage's; 0 uses the second stage alone. It tells a person from a crowd of people better.
    /// </summary>
    public float CoarseWeight { get; init; }

    /// <summary>
    /// The settings for feature-matching label propagation, chosen on davis16-dev `mask` (J&amp;F, 10 sequences):
    /// the frame at about 854×480, stages 2 and 3 with the third at weight 0.8 (stage 2 alone 0.660; weight 0.6 0.695,
    /// 0.8 0.697, 1.0 0.684, 2.0 0.622).
    /// </summary>
    public static FrameFeatures ForTracking() => new() { MaxPixels = 864 * 480, CoarseWeight = 0.8f };

    /// <summary>The frame size whose features this computes without resampling: the network's input size for such a frame.</summary>
    public Size FrameSize(Size video) => ResNetFeatureExtractor.InputSizeFor(video, Math.Min(MaxPixels, video.Width * video.Height));

    /// <summary>
    /// Loads the network these settings use and runs it once on a frame of <paramref name="frameSize"/> (ONNX Runtime
    /// sets up its first run, and each new input shape, lazily), so that the first real frame waits for neither.
    /// </summary>
    public void Load(Size frameSize)
    {
        using var frame = new Mat(frameSize.Height, frameSize.Width, MatType.CV_8UC3, new Scalar(90, 120, 60));
        using var grid = Compute(frame);
    }

    /// <summary>The network sees the frame at about its own size (sides rounded to multiples of 32), up to <see cref="MaxPixels"/>.</summary>
    public FeatureGrid Compute(Mat bgr)
    {
        var input = ResNetFeatureExtractor.InputSizeFor(bgr.Size(), Math.Min(MaxPixels, bgr.Width * bgr.Height));
        if (CoarseWeight <= 0) return FeatureGrid.From(FineOnly.Value.Extract(bgr, input)[0]);
        var maps = FineAndCoarse.Value.Extract(bgr, input);
        return FeatureGrid.Concat(maps[0], maps[1], CoarseWeight);
    }
}
