using OpenCvSharp;
using Roto.Vision.Features;

namespace Roto.Vision.Propagation;

/// <summary>
/// Feature-matching label propagation for one element: each cell of a new frame takes the labels of the cells it
/// resembles most (top-k softmax of cosine similarity) in the marked frame (anywhere: this recovers the element after
/// an occlusion or a fast move and keeps the track from drifting) and in the previous frame (near the same place:
/// this follows changes of pose and lighting since the marked frame).
/// </summary>
internal sealed class LabelMemory : IDisposable
{
    /// <summary>Candidates kept from each memory frame per cell.</summary>
    private const int TopK = 10;
    /// <summary>Softmax temperature on cosine similarity; chosen on the benchmark.</summary>
    private const float Temperature = 0.04f;
    /// <summary>How far (in cells) a cell may have moved since the previous frame.</summary>
    private const int LocalRadius = 5;
    /// <summary>Share of the marked frame in the prediction; the rest comes from the previous frame.</summary>
    private const float ReferenceShare = 0.5f;

    private readonly Mat _referenceCells;
    private readonly float[] _referenceLabels;
    private Mat? _previousCells;
    private float[] _previousLabels = [];
    private readonly int _rows;
    private readonly int _cols;

    /// <param name="reference">Features of the marked frame.</param>
    /// <param name="probability">The element on the marked frame, CV_32FC1 in [0, 1], any size.</param>
    public LabelMemory(FeatureGrid reference, Mat probability)
    {
        _rows = reference.Rows;
        _cols = reference.Cols;
        _referenceCells = reference.Cells.Clone();
        _referenceLabels = GridLabels(probability);
    }

    /// <summary>Keeps <paramref name="frame"/>'s features and the element's probability on it as the previous frame.</summary>
    public void Remember(FeatureGrid frame, Mat probability)
    {
        _previousCells?.Dispose();
        _previousCells = frame.Cells.Clone();
        _previousLabels = GridLabels(probability);
    }

    /// <summary>The element's probability on the frame of <paramref name="target"/>, CV_32FC1 of <paramref name="size"/>.</summary>
    public unsafe Mat Predict(FeatureGrid target, Size size)
    {
        if (target.Rows != _rows || target.Cols != _cols) throw new ArgumentException("feature grids differ in size");
        var count = _rows * _cols;
        var toReference = Similarities(target.Cells, _referenceCells);
        var toPrevious = _previousCells != null ? Similarities(target.Cells, _previousCells) : null;

        using var grid = new Mat(_rows, _cols, MatType.CV_32FC1);
        var sims = new float[TopK];
        var labels = new float[TopK];
        fixed (float* reference = toReference, previous = toPrevious)
        {
            for (var i = 0; i < count; i++)
            {
                var n = TopOf(reference + (long)i * count, _referenceLabels, sims, labels, 0, -1, -1);
                var fromReference = Softmax(sims, labels, 0, n);
                var label = fromReference;
                if (previous != null)
                {
                    var m = TopOf(previous + (long)i * count, _previousLabels, sims, labels, 0, i / _cols, i % _cols);
                    // Averaged, not pooled: the previous frame always looks more alike and would outvote the marked frame.
                    label = ReferenceShare * fromReference + (1 - ReferenceShare) * Softmax(sims, labels, 0, m);
                }
                ((float*)grid.Ptr(0))[i] = label;
            }
        }
        var probability = new Mat();
        Cv2.Resize(grid, probability, size, 0, 0, InterpolationFlags.Linear);
        return probability;
    }

    /// <summary>
    /// Cosine similarity of every cell of one grid to every cell of another (rows are unit vectors), row-major. Dot
    /// products with SIMD: OpenCV's gemm in this runtime is not BLAS-backed and took about four times longer here.
    /// </summary>
    private static unsafe float[] Similarities(Mat cells, Mat other)
    {
        int n = cells.Rows, m = other.Rows, d = cells.Cols;
        var result = new float[(long)n * m];
        var a = new ReadOnlySpan<float>((float*)cells.Data, n * d);
        var b = new ReadOnlySpan<float>((float*)other.Data, m * d);
        for (var i = 0; i < n; i++)
        {
            var row = a.Slice(i * d, d);
            var target = result.AsSpan(i * m, m);
            for (var j = 0; j < m; j++) target[j] = System.Numerics.Tensors.TensorPrimitives.Dot(row, b.Slice(j * d, d));
        }
        return result;
    }

    private static float Softmax(float[] sims, float[] labels, int from, int n)
    {
        var max = float.MinValue;
        for (var k = from; k < from + n; k++) max = Math.Max(max, sims[k]);
        double num = 0, den = 0;
        for (var k = from; k < from + n; k++)
        {
            var w = Math.Exp((sims[k] - max) / Temperature);
            num += w * labels[k];
            den += w;
        }
        return den > 0 ? (float)(num / den) : 0f;
    }

    /// <summary>
    /// Writes the <see cref="TopK"/> most similar cells of one row (restricted to a window around (cy, cx) when cy ≥ 0)
    /// into sims/labels from <paramref name="at"/>; returns how many. A partial selection by hand: OpenCV has no top-k.
    /// </summary>
    private unsafe int TopOf(float* row, float[] rowLabels, float[] sims, float[] labels, int at, int cy, int cx)
    {
        int y0 = 0, y1 = _rows - 1, x0 = 0, x1 = _cols - 1;
        if (cy >= 0)
        {
            y0 = Math.Max(0, cy - LocalRadius);
            y1 = Math.Min(_rows - 1, cy + LocalRadius);
            x0 = Math.Max(0, cx - LocalRadius);
            x1 = Math.Min(_cols - 1, cx + LocalRadius);
        }
        var n = 0;
        var worst = at;
        for (var y = y0; y <= y1; y++)
        {
            for (var x = x0; x <= x1; x++)
            {
                var j = y * _cols + x;
                var s = row[j];
                if (n < TopK)
                {
                    sims[at + n] = s;
                    labels[at + n] = rowLabels[j];
                    if (n == 0 || s < sims[worst]) worst = at + n;
                    n++;
                    continue;
                }
                if (s <= sims[worst]) continue;
                sims[worst] = s;
                labels[worst] = rowLabels[j];
                for (var k = at; k < at + TopK; k++) if (sims[k] < sims[worst]) worst = k;
            }
        }
        return n;
    }

    private unsafe float[] GridLabels(Mat probability)
    {
        using var small = new Mat();
        Cv2.Resize(probability, small, new Size(_cols, _rows), 0, 0, InterpolationFlags.Area);
        var labels = new float[_rows * _cols];
        for (var y = 0; y < _rows; y++)
        {
            var p = (float*)small.Ptr(y);
            for (var x = 0; x < _cols; x++) labels[y * _cols + x] = p[x];
        }
        return labels;
    }

    public void Dispose()
    {
        _referenceCells.Dispose();
        _previousCells?.Dispose();
    }
}
