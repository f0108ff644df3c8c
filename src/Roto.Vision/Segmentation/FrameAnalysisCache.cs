namespace Roto.Vision.Segmentation;

/// <summary>
/// The analyses of the most recently clicked frames, least recently used first out. Losing it costs only time:
/// the next click on an evicted frame analyses it again.
/// </summary>
public sealed class FrameAnalysisCache(int capacity)
{
    private readonly LinkedList<(string Key, FrameAnalysis Analysis)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, FrameAnalysis Analysis)>> _byKey = [];
    private readonly Lock _lock = new();

    public int Count { get { lock (_lock) return _byKey.Count; } }

    public bool TryGet(string key, out FrameAnalysis analysis)
    {
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                analysis = node.Value.Analysis;
                return true;
            }
        }
        analysis = null!;
        return false;
    }

    public void Put(string key, FrameAnalysis analysis)
    {
        lock (_lock)
        {
            if (_byKey.Remove(key, out var old)) _order.Remove(old);
            _byKey[key] = _order.AddFirst((key, analysis));
            while (_byKey.Count > Math.Max(1, capacity))
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _byKey.Remove(last.Value.Key);
            }
        }
    }
}
