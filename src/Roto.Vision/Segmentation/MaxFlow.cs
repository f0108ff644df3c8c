namespace Roto.Vision.Segmentation;

/// <summary>
/// Minimum s–t cut by the Boykov–Kolmogorov algorithm (search trees grown from both terminals and reused between
/// augmentations), which is fast on the grid-like graphs of images. OpenCV's graph-cut solver (GCGraph) is internal
/// to GrabCut and not exposed by OpenCvSharp, so the superpixel graph and the GrabCut band are cut here.
/// </summary>
public sealed class MaxFlow
{
    private const int None = -1, Terminal = -2, Orphan = -3;

    private readonly int _count;
    // Per node: residual capacity to the terminals (positive: from the source, negative: to the sink), first arc,
    // tree membership and parent arc, and the timestamp and distance marks of the adoption step.
    private readonly double[] _terminal;
    private readonly int[] _first;
    private readonly int[] _parent;
    private readonly bool[] _inSinkTree;
    private readonly int[] _stamp;
    private readonly int[] _distance;
    private readonly bool[] _queued;
    // Per arc (arcs come in pairs: a and a ^ 1 are sisters): target node, next arc of the same node, residual capacity.
    private int[] _head;
    private int[] _next;
    private double[] _residual;
    private int _arcs;

    /// <summary>A graph of <paramref name="nodes"/> nodes plus a source and a sink.</summary>
    public MaxFlow(int nodes, int expectedPairs = 0)
    {
        _count = nodes;
        _terminal = new double[nodes];
        _first = new int[nodes];
        Array.Fill(_first, -1);
        _parent = new int[nodes];
        _inSinkTree = new bool[nodes];
        _stamp = new int[nodes];
        _distance = new int[nodes];
        _queued = new bool[nodes];
        var arcs = Math.Max(16, 2 * expectedPairs);
        _head = new int[arcs];
        _next = new int[arcs];
        _residual = new double[arcs];
    }

    /// <summary>The costs of labelling <paramref name="node"/> background and foreground.</summary>
    public void AddTerminal(int node, double costIfBackground, double costIfForeground) =>
        // Only the difference matters: a cost paid on both sides is paid whatever the cut.
        _terminal[node] += costIfBackground - costIfForeground;

    /// <summary>Cost paid when <paramref name="a"/> and <paramref name="b"/> get different labels.</summary>
    public void AddPair(int a, int b, double cost)
    {
        if (_arcs + 2 > _head.Length)
        {
            var size = 2 * _head.Length;
            Array.Resize(ref _head, size);
            Array.Resize(ref _next, size);
            Array.Resize(ref _residual, size);
        }
        _head[_arcs] = b; _residual[_arcs] = cost; _next[_arcs] = _first[a]; _first[a] = _arcs;
        _head[_arcs + 1] = a; _residual[_arcs + 1] = cost; _next[_arcs + 1] = _first[b]; _first[b] = _arcs + 1;
        _arcs += 2;
    }

    /// <summary>Solves the cut; returns which nodes end on the source (foreground) side.</summary>
    public bool[] Solve()
    {
        var active = new Queue<int>();
        var orphans = new Queue<int>();
        for (var i = 0; i < _count; i++)
        {
            _parent[i] = None;
            if (_terminal[i] == 0) continue;
            _parent[i] = Terminal;
            _inSinkTree[i] = _terminal[i] < 0;
            _distance[i] = 1;
            Activate(active, i);
        }

        var time = 0;
        var current = -1;
        while (true)
        {
            var i = current;
            if (i >= 0 && _parent[i] == None) i = -1;
            if (i < 0)
            {
                do
                {
                    if (active.Count == 0) return SourceSide();
                    i = active.Dequeue();
                    _queued[i] = false;
                } while (_parent[i] == None);
            }

            var bridge = Grow(active, i);
            time++;
            if (bridge < 0)
            {
                current = -1;
                continue;
            }
            current = i;
            Augment(bridge, orphans);
            while (orphans.Count > 0) Adopt(orphans.Dequeue(), active, orphans, time);
        }
    }

    private void Activate(Queue<int> active, int i)
    {
        if (_queued[i]) return;
        _queued[i] = true;
        active.Enqueue(i);
    }

    /// <summary>Grows node <paramref name="i"/>'s tree by its free neighbours; returns an arc (source tree → sink tree) if the trees meet.</summary>
    private int Grow(Queue<int> active, int i)
    {
        var sink = _inSinkTree[i];
        for (var a = _first[i]; a >= 0; a = _next[a])
        {
            // Residual capacity in the direction of the tree's flow: away from the source, towards the sink.
            if ((sink ? _residual[a ^ 1] : _residual[a]) <= 0) continue;
            var j = _head[a];
            if (_parent[j] == None)
            {
                _inSinkTree[j] = sink;
                _parent[j] = a ^ 1;
                _stamp[j] = _stamp[i];
                _distance[j] = _distance[i] + 1;
                Activate(active, j);
            }
            else if (_inSinkTree[j] != sink)
            {
                return sink ? a ^ 1 : a;
            }
            else if (_stamp[j] <= _stamp[i] && _distance[j] > _distance[i])
            {
                // A shorter path to the terminal: keeps the trees shallow.
                _parent[j] = a ^ 1;
                _stamp[j] = _stamp[i];
                _distance[j] = _distance[i] + 1;
            }
        }
        return -1;
    }

    /// <summary>Pushes the bottleneck along source → … → bridge → … → sink; saturated parents make orphans.</summary>
    private void Augment(int bridge, Queue<int> orphans)
    {
        var bottleneck = _residual[bridge];
        // _parent[i] is the arc from i to its parent; flow runs parent → i in the source tree, i → parent in the sink tree.
        int i;
        for (i = _head[bridge ^ 1]; _parent[i] != Terminal; i = _head[_parent[i]]) bottleneck = Math.Min(bottleneck, _residual[_parent[i] ^ 1]);
        bottleneck = Math.Min(bottleneck, _terminal[i]);
        for (i = _head[bridge]; _parent[i] != Terminal; i = _head[_parent[i]]) bottleneck = Math.Min(bottleneck, _residual[_parent[i]]);
        bottleneck = Math.Min(bottleneck, -_terminal[i]);

        _residual[bridge ^ 1] += bottleneck;
        _residual[bridge] -= bottleneck;
        for (i = _head[bridge ^ 1]; ; )
        {
            var a = _parent[i];
            if (a == Terminal)
            {
                _terminal[i] -= bottleneck;
                if (_terminal[i] <= 0) MakeOrphan(i, orphans);
                break;
            }
            _residual[a] += bottleneck;
            _residual[a ^ 1] -= bottleneck;
            var next = _head[a];
            if (_residual[a ^ 1] <= 0) MakeOrphan(i, orphans);
            i = next;
        }
        for (i = _head[bridge]; ; )
        {
            var a = _parent[i];
            if (a == Terminal)
            {
                _terminal[i] += bottleneck;
                if (_terminal[i] >= 0) MakeOrphan(i, orphans);
                break;
            }
            _residual[a ^ 1] += bottleneck;
            _residual[a] -= bottleneck;
            var next = _head[a];
            if (_residual[a] <= 0) MakeOrphan(i, orphans);
            i = next;
        }
    }

    private void MakeOrphan(int i, Queue<int> orphans)
    {
        _parent[i] = Orphan;
        orphans.Enqueue(i);
    }

    /// <summary>Finds an orphan a new parent in its own tree that still reaches the terminal, or frees it.</summary>
    private void Adopt(int i, Queue<int> active, Queue<int> orphans, int time)
    {
        var sink = _inSinkTree[i];
        var best = None;
        var bestDistance = int.MaxValue;
        for (var a = _first[i]; a >= 0; a = _next[a])
        {
            // Capacity from the candidate parent j to i in the tree's flow direction.
            if ((sink ? _residual[a] : _residual[a ^ 1]) <= 0) continue;
            var j = _head[a];
            if (_inSinkTree[j] != sink || _parent[j] == None) continue;
            // Walk up to the terminal (or to a node already checked in this round).
            var d = 0;
            var k = j;
            while (true)
            {
                if (_stamp[k] == time) { d += _distance[k]; break; }
                var up = _parent[k];
                d++;
                if (up == Terminal) { _stamp[k] = time; _distance[k] = 1; break; }
                if (up == Orphan || up == None) { d = int.MaxValue; break; }
                k = _head[up];
            }
            if (d == int.MaxValue) continue;
            if (d < bestDistance) { best = a; bestDistance = d; }
            for (k = j; _stamp[k] != time; k = _head[_parent[k]])
            {
                _stamp[k] = time;
                _distance[k] = d--;
            }
        }

        if (best != None)
        {
            _parent[i] = best;
            _stamp[i] = time;
            _distance[i] = bestDistance + 1;
            return;
        }
        _parent[i] = None;
        for (var a = _first[i]; a >= 0; a = _next[a])
        {
            var j = _head[a];
            if (_inSinkTree[j] != sink || _parent[j] == None) continue;
            if ((sink ? _residual[a] : _residual[a ^ 1]) > 0) Activate(active, j);
            var up = _parent[j];
            if (up != Terminal && up != Orphan && _head[up] == i) MakeOrphan(j, orphans);
        }
    }

    private bool[] SourceSide()
    {
        var foreground = new bool[_count];
        for (var i = 0; i < _count; i++) foreground[i] = _parent[i] != None && !_inSinkTree[i];
        return foreground;
    }
}
