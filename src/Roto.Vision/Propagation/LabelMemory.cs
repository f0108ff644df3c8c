using OpenCvSharp;
using Roto.Vision.Features;

namespace Roto.Vision.Propagation;

/// <summary>
/// Feature-matching label propagation for one element, as in the self-supervised correspondence literature (space-time
/// label propagation with ImageNet features): each cell of a new frame takes the labels of the cells it resembles most
/// (top-k softmax of cosine similarity, pooled over every memory frame) among the marked frames' cells (their labels
/// are right) and the last few tracked frames' cells (they follow changes of pose and lighting since the marked frame).
/// Matches are looked for near the cell's own position, which keeps similar things elsewhere from taking the label;
/// a memory without a radius matches the marked frames anywhere (used to find a lost element again).
/// </summary>
internal sealed class LabelMemory : IDisposable
{
    /// <summary>
    /// Candidates kept per cell over the whole memory and the softmax temperature on cosine similarity, chosen on the
    /// benchmark (davis16-dev `mask` J&amp;F with matching: top-10 at 0.05 0.693, top-5 0.687, top-20 0.706, 0.03 0.681,
    /// 0.1 0.705; top-20 at 0.1 0.719, at 0.15 0.712; top-40 at 0.1 0.702; top-15 at 0.1 0.721). Recovery, which
    /// matches anywhere on the marked frames, keeps the sharper values it was chosen with.
    /// </summary>
    private readonly int _topK;
    private readonly float _temperature;

    private readonly List<Entry> _references = [];
    private readonly Queue<Entry> _recent = new();
    private readonly int _recentFrames;
    private readonly int _radius;
    private readonly int _rows;
    private readonly int _cols;
    private readonly int _channels;

    /// <param name="reference">Features of the marked frame.</param>
    /// <param name="probability">The element on the marked frame, CV_32FC1 in [0, 1], any size.</param>
    /// <param name="radius">How far (in cells) a match may lie from the cell; 0 matches anywhere on the marked frames only.</param>
    /// <param name="recentFrames">Tracked frames remembered besides the marked ones.</param>
    public LabelMemory(FeatureGrid reference, Mat probability, int radius = 0, int recentFrames = 0)
    {
        _rows = reference.Rows;
        _cols = reference.Cols;
        _channels = reference.Cells.Cols;
        _radius = radius;
        _recentFrames = radius > 0 ? recentFrames : 0;
        (_topK, _temperature) = radius > 0 ? (15, 0.1f) : (10, 0.05f);
        AddReference(reference, probability);
    }

    /// <summary>Another marked frame of the element (the far end of a gap between two marked frames).</summary>
    public void AddReference(FeatureGrid frame, Mat probability) => _references.Add(EntryOf(frame, probability, hard: false));

    /// <summary>Forgets the tracked frames (the marked ones stay): the track moved, and what they hold is what it left.</summary>
    public void ForgetRecent()
    {
        while (_recent.Count > 0) _recent.Dequeue().Cells.Dispose();
    }

    /// <summary>
    /// Remembers <paramref name="frame"/>'s features with the element's mask on it (probability ≥ 0.5), forgetting the
    /// oldest tracked frame. Masks, not probabilities: soft predictions fed back spread into the background within a
    /// few frames (davis16-dev `mask` J&amp;F 0.560 soft → 0.660 as masks, layer-2 features alone).
    /// </summary>
    public void Remember(FeatureGrid frame, Mat probability)
    {
        if (_recentFrames == 0) return;
        _recent.Enqueue(EntryOf(frame, probability, hard: true));
        if (_recent.Count > _recentFrames) _recent.Dequeue().Cells.Dispose();
    }

    /// <summary>The element's probability on the frame of <paramref name="target"/>, CV_32FC1 of <paramref name="size"/>.</summary>
    public unsafe Mat Predict(FeatureGrid target, Size size)
    {
        if (target.Rows != _rows || target.Cols != _cols) throw new ArgumentException("feature grids differ in size");
        var memory = _references.Concat(_recent).ToArray();
        var labels = new float[_rows * _cols];
        var cells = (float*)target.Cells.Data;
        // Rows are independent; the matching is most of a tracked frame's cost.
        Parallel.For(0, _rows, y =>
        {
            var best = new TopList(_topK);
            for (var x = 0; x < _cols; x++)
            {
                // Where no memory frame has any of the element within reach every candidate's label is 0, and so is
                // the softmax: the cell is skipped (the same result, about 15 % sooner on davis16-dev's blackswan).
                if (!AnyLabelInReach(memory, y, x)) continue;
                best.Clear();
                var query = new ReadOnlySpan<float>(cells + (long)(y * _cols + x) * _channels, _channels);
                foreach (var entry in memory) Match(query, entry, y, x, ref best);
                labels[y * _cols + x] = best.Softmax(_temperature);
            }
        });
        fixed (float* data = labels)
        {
            using var grid = Mat.FromPixelData(_rows, _cols, MatType.CV_32FC1, (IntPtr)data);
            var probability = new Mat();
            Cv2.Resize(grid, probability, size, 0, 0, InterpolationFlags.Linear);
            return probability;
        }
    }

    private bool AnyLabelInReach(Entry[] memory, int y, int x)
    {
        if (_radius == 0) return true;
        int y0 = Math.Max(0, y - _radius), y1 = Math.Min(_rows - 1, y + _radius) + 1;
        int x0 = Math.Max(0, x - _radius), x1 = Math.Min(_cols - 1, x + _radius) + 1;
        var stride = _cols + 1;
        foreach (var entry in memory)
        {
            var sums = entry.LabelledSums;
            if (sums[y1 * stride + x1] - sums[y0 * stride + x1] - sums[y1 * stride + x0] + sums[y0 * stride + x0] > 0) return true;
        }
        return false;
    }

    /// <summary>Offers the cells of one memory frame within the radius (or all of them) to the candidate list.</summary>
    private unsafe void Match(ReadOnlySpan<float> query, Entry entry, int y, int x, ref TopList best)
    {
        int y0 = 0, y1 = _rows - 1, x0 = 0, x1 = _cols - 1;
        if (_radius > 0)
        {
            y0 = Math.Max(0, y - _radius);
            y1 = Math.Min(_rows - 1, y + _radius);
            x0 = Math.Max(0, x - _radius);
            x1 = Math.Min(_cols - 1, x + _radius);
        }
        var data = (float*)entry.Cells.Data;
        for (var yy = y0; yy <= y1; yy++)
        {
            for (var xx = x0; xx <= x1; xx++)
            {
                var j = yy * _cols + xx;
                var s = System.Numerics.Tensors.TensorPrimitives.Dot(query, new ReadOnlySpan<float>(data + (long)j * _channels, _channels));
                best.Offer(s, entry.Labels[j]);
            }
        }
    }

    private Entry EntryOf(FeatureGrid frame, Mat probability, bool hard)
    {
        if (frame.Rows != _rows || frame.Cols != _cols) throw new ArgumentException("feature grids differ in size");
        var labels = GridLabels(probability, hard);
        return new Entry(frame.Cells.Clone(), labels, LabelledSums(labels));
    }

    /// <summary>Summed-area table of the cells with any of the element: (rows + 1) × (cols + 1), so a window's count is four lookups.</summary>
    private unsafe int[] LabelledSums(float[] labels)
    {
        fixed (float* data = labels)
        {
            using var grid = Mat.FromPixelData(_rows, _cols, MatType.CV_32FC1, (IntPtr)data);
            using var any = new Mat();
            Cv2.Compare(grid, Scalar.All(0), any, CmpTypes.GT);
            Cv2.Threshold(any, any, 0, 1, ThresholdTypes.Binary);
            using var sums = new Mat();
            Cv2.Integral(any, sums, MatType.CV_32S);
            var table = new int[(_rows + 1) * (_cols + 1)];
            System.Runtime.InteropServices.Marshal.Copy(sums.Data, table, 0, table.Length);
            return table;
        }
    }

    /// <summary>The element's share of each cell, or (<paramref name="hard"/>) whether it covers most of the cell.</summary>
    private unsafe float[] GridLabels(Mat probability, bool hard)
    {
        using var small = new Mat();
        Cv2.Resize(probability, small, new Size(_cols, _rows), 0, 0, InterpolationFlags.Area);
        var labels = new float[_rows * _cols];
        for (var y = 0; y < _rows; y++)
        {
            var p = (float*)small.Ptr(y);
            for (var x = 0; x < _cols; x++) labels[y * _cols + x] = hard ? (p[x] >= 0.5f ? 1f : 0f) : p[x];
        }
        return labels;
    }

    public void Dispose()
    {
        foreach (var e in _references) e.Cells.Dispose();
        foreach (var e in _recent) e.Cells.Dispose();
    }

    /// <summary>A memory frame: its cells (unit rows, CV_32FC1), the element's share of each cell and the summed-area table of the cells that have any.</summary>
    private sealed record Entry(Mat Cells, float[] Labels, int[] LabelledSums);

    /// <summary>The k most similar candidates seen so far. By hand: OpenCV has no top-k, and sorting every candidate costs far more.</summary>
    private struct TopList(int capacity)
    {
        private readonly float[] _sims = new float[capacity];
        private readonly float[] _labels = new float[capacity];
        private int _count;
        private int _worst;

        public void Clear() => _count = 0;

        public void Offer(float similarity, float label)
        {
            if (_count < _sims.Length)
            {
                _sims[_count] = similarity;
                _labels[_count] = label;
                if (_count == 0 || similarity < _sims[_worst]) _worst = _count;
                _count++;
                return;
            }
            if (similarity <= _sims[_worst]) return;
            _sims[_worst] = similarity;
            _labels[_worst] = label;
            for (var k = 0; k < _count; k++) if (_sims[k] < _sims[_worst]) _worst = k;
        }

        public readonly float Softmax(float temperature)
        {
            if (_count == 0) return 0;
            var max = float.MinValue;
            for (var k = 0; k < _count; k++) max = Math.Max(max, _sims[k]);
            double num = 0, den = 0;
            for (var k = 0; k < _count; k++)
            {
                var w = Math.Exp((_sims[k] - max) / temperature);
                num += w * _labels[k];
                den += w;
            }
            return (float)(num / den);
        }
    }
}
