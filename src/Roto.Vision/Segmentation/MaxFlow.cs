namespace Roto.Vision.Segmentation;

/// <summary>
/// Minimum s–t cut of a small graph by Dinic's algorithm. OpenCV's graph-cut solver (GCGraph) is internal to GrabCut
/// and not exposed by OpenCvSharp, so the superpixel graph (a few thousand nodes) is cut here.
/// </summary>
public sealed class MaxFlow
{
    private readonly int _nodes;
    private readonly List<int> _to = [], _next = [];
    private readonly List<double> _cap = [];
    private readonly int[] _head, _level, _iter;
    private readonly int _source, _sink;

    /// <summary>A graph of <paramref name="nodes"/> nodes plus a source and a sink.</summary>
    public MaxFlow(int nodes)
    {
        _nodes = nodes + 2;
        _source = nodes;
        _sink = nodes + 1;
        _head = Enumerable.Repeat(-1, _nodes).ToArray();
        _level = new int[_nodes];
        _iter = new int[_nodes];
    }

    /// <summary>The costs of labelling <paramref name="node"/> background and foreground.</summary>
    public void AddTerminal(int node, double costIfBackground, double costIfForeground)
    {
        if (costIfBackground > 0) AddEdge(_source, node, costIfBackground, 0);
        if (costIfForeground > 0) AddEdge(node, _sink, costIfForeground, 0);
    }

    /// <summary>Cost paid when <paramref name="a"/> and <paramref name="b"/> get different labels.</summary>
    public void AddPair(int a, int b, double cost) => AddEdge(a, b, cost, cost);

    private void AddEdge(int a, int b, double forward, double backward)
    {
        _to.Add(b); _cap.Add(forward); _next.Add(_head[a]); _head[a] = _to.Count - 1;
        _to.Add(a); _cap.Add(backward); _next.Add(_head[b]); _head[b] = _to.Count - 1;
    }

    /// <summary>Solves the cut; returns which nodes end on the source (foreground) side.</summary>
    public bool[] Solve()
    {
        while (BuildLevels())
        {
            Array.Copy(_head, _iter, _nodes);
            while (Augment(_source, double.MaxValue) > 1e-12) { }
        }
        var foreground = new bool[_nodes - 2];
        for (var i = 0; i < foreground.Length; i++) foreground[i] = _level[i] >= 0;
        return foreground;
    }

    private bool BuildLevels()
    {
        Array.Fill(_level, -1);
        var queue = new Queue<int>();
        _level[_source] = 0;
        queue.Enqueue(_source);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            for (var e = _head[v]; e >= 0; e = _next[e])
            {
                if (_cap[e] > 1e-12 && _level[_to[e]] < 0)
                {
                    _level[_to[e]] = _level[v] + 1;
                    queue.Enqueue(_to[e]);
                }
            }
        }
        return _level[_sink] >= 0;
    }

    private double Augment(int v, double limit)
    {
        if (v == _sink) return limit;
        for (; _iter[v] >= 0; _iter[v] = _next[_iter[v]])
        {
            var e = _iter[v];
            var u = _to[e];
            if (_cap[e] <= 1e-12 || _level[u] != _level[v] + 1) continue;
            var pushed = Augment(u, Math.Min(limit, _cap[e]));
            if (pushed > 1e-12)
            {
                _cap[e] -= pushed;
                _cap[e ^ 1] += pushed;
                return pushed;
            }
        }
        return 0;
    }
}
