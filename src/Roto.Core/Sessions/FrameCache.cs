using OpenCvSharp;

namespace Roto.Core.Sessions;

/// <summary>
/// The last few decoded frames, so more clicks on the same frame skip decoding. A cache only: a restart
/// empties it without harm. Evicted frames are disposed; callers get clones.
/// </summary>
public sealed class FrameCache : IDisposable
{
    private const int Capacity = 6;
    private readonly LinkedList<(string Key, Mat Frame)> _entries = new();
    private readonly Lock _gate = new();

    public Mat? TryGet(string key)
    {
        lock (_gate)
        {
            for (var node = _entries.First; node != null; node = node.Next)
            {
                if (node.Value.Key != key) continue;
                _entries.Remove(node);
                _entries.AddFirst(node);
                return node.Value.Frame.Clone();
            }
        }
        return null;
    }

    public void Put(string key, Mat frame)
    {
        lock (_gate)
        {
            _entries.AddFirst((key, frame.Clone()));
            while (_entries.Count > Capacity)
            {
                _entries.Last!.Value.Frame.Dispose();
                _entries.RemoveLast();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var e in _entries) e.Frame.Dispose();
            _entries.Clear();
        }
    }
}
