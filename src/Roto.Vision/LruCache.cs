namespace Roto.Vision;

/// <summary>
/// The work of the most recently clicked frames (an analysis, an embedding), least recently used first out. Losing
/// an entry costs only time: the next click on an evicted frame computes it again. Thread-safe.
/// </summary>
public sealed class LruCache<TValue>(int capacity)
{
    private readonly LinkedList<(string Key, TValue Value)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, TValue Value)>> _byKey = [];
    private readonly Lock _lock = new();

    public int Count { get { lock (_lock) return _byKey.Count; } }

    public bool TryGet(string key, out TValue value)
    {
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    public void Put(string key, TValue value)
    {
        lock (_lock)
        {
            if (_byKey.Remove(key, out var old)) _order.Remove(old);
            _byKey[key] = _order.AddFirst((key, value));
            while (_byKey.Count > Math.Max(1, capacity))
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _byKey.Remove(last.Value.Key);
            }
        }
    }
}
