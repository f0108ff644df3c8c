namespace Roto.Vision.Segmentation;

/// <summary>
/// Minimum s–t cut by the Boykov–Kolmogorov algorithm (search trees grown from both terminals and reused between
/// augmentations), which is fast on the grid-like graphs of images. OpenCV's graph-cut solver (GCGraph) is internal
/// to GrabCut and not exposed by OpenCvSharp, so the superpixel graph and the GrabCut band are cut here.
/// </summary>
public sealed class MaxFlow
{
    private const int None = -1, Terminal = -2, Orphan = -3;
    /// <summary>Residual capacity below which an arc counts as saturated: rounding leaves crumbs that are not worth augmenting.</summary>
    private const double Epsilon = 1e-9;

    private readonly int _count;
    // Per node: residual capacity to the terminals (positive: from the source, negative: to the sink), tree membership
    // and parent arc, and the timestamp and distance marks of the adoption step.
    private readonly double[] _terminal;
    private readonly int[] _parent;
    private readonly bool[] _inSinkTree;
    private readonly int[] _stamp;
    private readonly int[] _distance;
    private readonly bool[] _queued;
    // The pairs as added; Solve lays them out as arcs grouped by node.
    private readonly List<(int A, int B, double Cost)> _pairs;

    /// <summary>A graph of <paramref name="nodes"/> nodes plus a source and a sink.</summary>
    public MaxFlow(int nodes, int expectedPairs = 0)
    {
        _count = nodes;
        _terminal = new double[nodes];
        _parent = new int[nodes];
        _inSinkTree = new bool[nodes];
        _stamp = new int[nodes];
        _distance = new int[nodes];
        _queued = new bool[nodes];
        _pairs = new List<(int, int, double)>(expectedPairs);
    }

    /// <summary>The costs of labelling <paramref name="node"/> background and foreground.</summary>
    public void AddTerminal(int node, double costIfBackground, double costIfForeground) =>
        // Only the difference matters: a cost paid on both sides is paid whatever the cut.
        _terminal[node] += costIfBackground - costIfForeground;

    /// <summary>Cost paid when <paramref name="a"/> and <paramref name="b"/> get different labels.</summary>
    public void AddPair(int a, int b, double cost) => _pairs.Add((a, b, cost));

    /// <summary>Solves the cut (once: it consumes the capacities); returns which nodes end on the source (foreground) side.</summary>
    public unsafe bool[] Solve()
    {
        // Each pair becomes two arcs, one from each end, with each node's arcs side by side in memory and sister links.
        var first = new int[_count + 1];
        foreach (var (a, b, _) in _pairs) { first[a + 1]++; first[b + 1]++; }
        for (var i = 0; i < _count; i++) first[i + 1] += first[i];
        var fill = (int[])first.Clone();
        var arcs = Math.Max(1, 2 * _pairs.Count);
        var head = new int[arcs];
        var sister = new int[arcs];
        var residual = new double[arcs];
        foreach (var (a, b, cost) in _pairs)
        {
            int ab = fill[a]++, ba = fill[b]++;
            head[ab] = b; residual[ab] = cost; sister[ab] = ba;
            head[ba] = a; residual[ba] = cost; sister[ba] = ab;
        }

        var active = new IntQueue(_count);
        var orphans = new IntQueue(_count);
        fixed (int* f = first, hd = head, sis = sister, parent = _parent, stamp = _stamp, distance = _distance)
        fixed (double* res = residual, terminal = _terminal)
        fixed (bool* inSink = _inSinkTree, queued = _queued)
        {
            var g = new Graph(f, hd, sis, res, terminal, parent, inSink, stamp, distance, queued);
            for (var i = 0; i < _count; i++)
            {
                parent[i] = None;
                if (Math.Abs(terminal[i]) <= Epsilon) continue;
                parent[i] = Terminal;
                inSink[i] = terminal[i] < 0;
                distance[i] = 1;
                g.Activate(active, i);
            }

            var time = 0;
            var current = -1;
            while (true)
            {
                var i = current;
                if (i >= 0 && parent[i] == None) i = -1;
                if (i < 0)
                {
                    do
                    {
                        if (active.Count == 0) return SourceSide();
                        i = active.Dequeue();
                        queued[i] = false;
                    } while (parent[i] == None);
                }

                var bridge = g.Grow(active, i);
                time++;
                if (bridge < 0)
                {
                    current = -1;
                    continue;
                }
                current = i;
                g.Augment(bridge, orphans);
                while (orphans.Count > 0) g.Adopt(orphans.Dequeue(), active, orphans, time);
            }
        }
    }

    /// <summary>A fixed-capacity FIFO of node ids (each node is in it at most once).</summary>
    private sealed class IntQueue(int capacity)
    {
        private readonly int[] _items = new int[Math.Max(1, capacity)];
        private int _head, _count;
        public int Count => _count;
        public void Enqueue(int item)
        {
            _items[(_head + _count) % _items.Length] = item;
            _count++;
        }
        public int Dequeue()
        {
            var item = _items[_head];
            _head = (_head + 1) % _items.Length;
            _count--;
            return item;
        }
    }

    /// <summary>The solver's steps over pinned arrays (no bounds checks in the inner loops).</summary>
    private readonly unsafe struct Graph(int* first, int* head, int* sister, double* residual, double* terminal, int* parent,
        bool* inSink, int* stamp, int* distance, bool* queued)
    {
        public void Activate(IntQueue active, int i)
        {
            if (queued[i]) return;
            queued[i] = true;
            active.Enqueue(i);
        }

        /// <summary>Grows node <paramref name="i"/>'s tree by its free neighbours; returns an arc (source tree → sink tree) if the trees meet.</summary>
        public int Grow(IntQueue active, int i)
        {
            var sink = inSink[i];
            for (int a = first[i], end = first[i + 1]; a < end; a++)
            {
                // Residual capacity in the direction of the tree's flow: away from the source, towards the sink.
                if ((sink ? residual[sister[a]] : residual[a]) <= Epsilon) continue;
                var j = head[a];
                if (parent[j] == None)
                {
                    inSink[j] = sink;
                    parent[j] = sister[a];
                    stamp[j] = stamp[i];
                    distance[j] = distance[i] + 1;
                    Activate(active, j);
                }
                else if (inSink[j] != sink)
                {
                    return sink ? sister[a] : a;
                }
                else if (stamp[j] <= stamp[i] && distance[j] > distance[i])
                {
                    // A shorter path to the terminal: keeps the trees shallow.
                    parent[j] = sister[a];
                    stamp[j] = stamp[i];
                    distance[j] = distance[i] + 1;
                }
            }
            return -1;
        }

        /// <summary>Pushes the bottleneck along source → … → bridge → … → sink; saturated parents make orphans.</summary>
        public void Augment(int bridge, IntQueue orphans)
        {
            var bottleneck = residual[bridge];
            // parent[i] is the arc from i to its parent; flow runs parent → i in the source tree, i → parent in the sink tree.
            int i;
            for (i = head[sister[bridge]]; parent[i] != Terminal; i = head[parent[i]]) bottleneck = Math.Min(bottleneck, residual[sister[parent[i]]]);
            bottleneck = Math.Min(bottleneck, terminal[i]);
            for (i = head[bridge]; parent[i] != Terminal; i = head[parent[i]]) bottleneck = Math.Min(bottleneck, residual[parent[i]]);
            bottleneck = Math.Min(bottleneck, -terminal[i]);

            residual[sister[bridge]] += bottleneck;
            residual[bridge] -= bottleneck;
            for (i = head[sister[bridge]]; ;)
            {
                var a = parent[i];
                if (a == Terminal)
                {
                    terminal[i] -= bottleneck;
                    if (terminal[i] <= Epsilon) MakeOrphan(i, orphans);
                    break;
                }
                residual[a] += bottleneck;
                residual[sister[a]] -= bottleneck;
                var next = head[a];
                if (residual[sister[a]] <= Epsilon) MakeOrphan(i, orphans);
                i = next;
            }
            for (i = head[bridge]; ;)
            {
                var a = parent[i];
                if (a == Terminal)
                {
                    terminal[i] += bottleneck;
                    if (terminal[i] >= -Epsilon) MakeOrphan(i, orphans);
                    break;
                }
                residual[sister[a]] += bottleneck;
                residual[a] -= bottleneck;
                var next = head[a];
                if (residual[a] <= Epsilon) MakeOrphan(i, orphans);
                i = next;
            }
        }

        private void MakeOrphan(int i, IntQueue orphans)
        {
            parent[i] = Orphan;
            orphans.Enqueue(i);
        }

        /// <summary>Finds an orphan a new parent in its own tree that still reaches the terminal, or frees it.</summary>
        public void Adopt(int i, IntQueue active, IntQueue orphans, int time)
        {
            var sink = inSink[i];
            var best = None;
            var bestDistance = int.MaxValue;
            int end = first[i + 1];
            for (var a = first[i]; a < end; a++)
            {
                // Capacity from the candidate parent j to i in the tree's flow direction.
                if ((sink ? residual[a] : residual[sister[a]]) <= Epsilon) continue;
                var j = head[a];
                if (inSink[j] != sink || parent[j] == None) continue;
                // Walk up to the terminal (or to a node already checked in this round).
                var d = 0;
                var k = j;
                while (true)
                {
                    if (stamp[k] == time) { d += distance[k]; break; }
                    var up = parent[k];
                    d++;
                    if (up == Terminal) { stamp[k] = time; distance[k] = 1; break; }
                    if (up == Orphan || up == None) { d = int.MaxValue; break; }
                    k = head[up];
                }
                if (d == int.MaxValue) continue;
                if (d < bestDistance) { best = a; bestDistance = d; }
                for (k = j; stamp[k] != time; k = head[parent[k]])
                {
                    stamp[k] = time;
                    distance[k] = d--;
                }
            }

            if (best != None)
            {
                parent[i] = best;
                stamp[i] = time;
                distance[i] = bestDistance + 1;
                return;
            }
            parent[i] = None;
            for (var a = first[i]; a < end; a++)
            {
                var j = head[a];
                if (inSink[j] != sink || parent[j] == None) continue;
                if ((sink ? residual[a] : residual[sister[a]]) > Epsilon) Activate(active, j);
                var up = parent[j];
                if (up != Terminal && up != Orphan && head[up] == i) MakeOrphan(j, orphans);
            }
        }
    }

    private bool[] SourceSide()
    {
        var foreground = new bool[_count];
        for (var i = 0; i < _count; i++) foreground[i] = _parent[i] != None && !_inSinkTree[i];
        return foreground;
    }
}
