using System.Numerics.Tensors;

namespace Roto.Vision.Segmentation;

/// <summary>
/// Labels superpixels by geodesic distance over the superpixel graph (as in Bai and Sapiro's geodesic matting): a
/// superpixel is element when it is nearer, along paths of small descriptor changes, to an include click than to the
/// background, which is the exclude clicks and, less surely, the frame's edge (elements seldom fill the frame's edge,
/// so a region reached from it without crossing an edge is background). Geodesic labels are connected to an include
/// click by construction, and they are monotone in the clicks: an include click can only add, an exclude click only
/// remove.
/// </summary>
public sealed class GeodesicLabeller(FeatureGraphOptions options)
{
    public bool[] Label(FrameAnalysis frame, IReadOnlyList<Click> clicks)
    {
        var n = frame.Count;
        var seedLabel = new Dictionary<int, bool>();
        foreach (var c in clicks) seedLabel[frame.SuperpixelAt(c)] = c.Include;
        if (!seedLabel.Values.Any(v => v)) return new bool[n];

        var costs = EdgeCosts(frame);
        var fgStart = new double[n];
        var bgStart = new double[n];
        Array.Fill(fgStart, double.PositiveInfinity);
        Array.Fill(bgStart, double.PositiveInfinity);
        for (var s = 0; s < n; s++) if (frame.OnBorder[s]) bgStart[s] = options.BorderOffset;
        foreach (var (s, include) in seedLabel)
        {
            if (include) { fgStart[s] = 0; bgStart[s] = double.PositiveInfinity; }
            else { bgStart[s] = 0; fgStart[s] = double.PositiveInfinity; }
        }
        var toElement = Dijkstra(frame, costs, fgStart);
        var toBackground = Dijkstra(frame, costs, bgStart);
        var labels = new bool[n];
        for (var s = 0; s < n; s++) labels[s] = toElement[s] < toBackground[s];
        return labels;
    }

    /// <summary>Cost of stepping between adjacent superpixels: how different their descriptors are, plus a small length term.</summary>
    private double[][] EdgeCosts(FrameAnalysis frame)
    {
        var costs = new double[frame.Count][];
        for (var s = 0; s < frame.Count; s++)
        {
            var neighbours = frame.Neighbours[s];
            costs[s] = new double[neighbours.Length];
            for (var i = 0; i < neighbours.Length; i++)
            {
                var d = TensorPrimitives.Distance(frame.Descriptor(s), frame.Descriptor(neighbours[i]));
                costs[s][i] = Math.Pow(d, options.GeodesicPower) + options.GeodesicStep;
            }
        }
        return costs;
    }

    private static double[] Dijkstra(FrameAnalysis frame, double[][] costs, double[] start)
    {
        var distance = (double[])start.Clone();
        var queue = new PriorityQueue<int, double>();
        for (var s = 0; s < distance.Length; s++) if (!double.IsPositiveInfinity(distance[s])) queue.Enqueue(s, distance[s]);
        while (queue.TryDequeue(out var s, out var d))
        {
            if (d > distance[s]) continue;
            var neighbours = frame.Neighbours[s];
            for (var i = 0; i < neighbours.Length; i++)
            {
                var t = neighbours[i];
                var candidate = d + costs[s][i];
                if (candidate < distance[t]) { distance[t] = candidate; queue.Enqueue(t, candidate); }
            }
        }
        return distance;
    }
}
