using System.Numerics.Tensors;

namespace Roto.Vision.Segmentation;

/// <summary>
/// A handful of cluster centres of superpixel descriptors and the distance of any descriptor to the nearest one.
/// Written here rather than with Cv2.Kmeans because OpenCV seeds its k-means from a global random state, and the
/// same clicks must always give the same mask.
/// </summary>
/// <param name="table">Descriptors of a frame's superpixels, <paramref name="length"/> floats each, row-major.</param>
public sealed class DescriptorClusters(float[] table, int length)
{
    private readonly List<float[]> _centres = [];
    private readonly int _length = length;

    private ReadOnlySpan<float> Descriptor(int superpixel) => table.AsSpan(superpixel * _length, _length);

    public int Count => _centres.Count;

    public void Add(ReadOnlySpan<float> centre) => _centres.Add(centre.ToArray());

    /// <summary>Adds up to <paramref name="k"/> k-means centres of the given superpixels (farthest-point start, a few Lloyd steps).</summary>
    public void AddKMeans(IReadOnlyList<int> members, int k, int steps = 5)
    {
        if (members.Count == 0 || k <= 0) return;
        k = Math.Min(k, members.Count);
        var centres = new List<float[]> { Mean(members) };
        var nearest = new float[members.Count];
        for (var i = 0; i < members.Count; i++) nearest[i] = TensorPrimitives.Distance(Descriptor(members[i]), centres[0]);
        while (centres.Count < k)
        {
            var far = 0;
            for (var i = 1; i < members.Count; i++) if (nearest[i] > nearest[far]) far = i;
            if (nearest[far] <= 1e-6f) break;
            var c = Descriptor(members[far]).ToArray();
            centres.Add(c);
            for (var i = 0; i < members.Count; i++) nearest[i] = Math.Min(nearest[i], TensorPrimitives.Distance(Descriptor(members[i]), c));
        }
        var assignment = new int[members.Count];
        for (var step = 0; step < steps; step++)
        {
            for (var i = 0; i < members.Count; i++)
            {
                var d = Descriptor(members[i]);
                var best = 0;
                var bestDistance = float.MaxValue;
                for (var c = 0; c < centres.Count; c++)
                {
                    var dist = TensorPrimitives.Distance(d, centres[c]);
                    if (dist < bestDistance) { bestDistance = dist; best = c; }
                }
                assignment[i] = best;
            }
            for (var c = 0; c < centres.Count; c++)
            {
                var inCluster = members.Where((_, i) => assignment[i] == c).ToList();
                if (inCluster.Count > 0) centres[c] = Mean(inCluster);
            }
        }
        _centres.AddRange(centres);
    }

    /// <summary>Euclidean distance to the nearest centre; +∞ when there is none.</summary>
    public float Distance(ReadOnlySpan<float> descriptor)
    {
        var best = float.PositiveInfinity;
        foreach (var c in _centres) best = Math.Min(best, TensorPrimitives.Distance(descriptor, c));
        return best;
    }

    private float[] Mean(IReadOnlyList<int> members)
    {
        var sum = new float[_length];
        foreach (var m in members) TensorPrimitives.Add(sum, Descriptor(m), sum);
        TensorPrimitives.Divide(sum, members.Count, sum);
        return sum;
    }
}
