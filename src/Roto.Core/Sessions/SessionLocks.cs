using System.Collections.Concurrent;

namespace Roto.Core.Sessions;

/// <summary>
/// Serialises changes to one session inside this process (two clicks racing on one frame would otherwise both
/// read the same points). Entries are tiny and kept; a restart loses nothing that matters.
/// </summary>
public sealed class SessionLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public async Task<IDisposable> EnterAsync(string sessionId, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(sessionId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
        }
    }
}
