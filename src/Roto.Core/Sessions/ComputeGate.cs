using Microsoft.Extensions.Options;

namespace Roto.Core.Sessions;

/// <summary>
/// Bounds how many CPU-heavy synchronous jobs (normalising a video, a click's segmentation, a preview) run at once.
/// More than the machine has cores only slows every one of them alike and lets the media tools' deadlines fire on
/// work that was merely waiting for a core; queued here, each job runs at full speed once admitted.
/// </summary>
public sealed class ComputeGate
{
    private readonly SemaphoreSlim _slots;

    public ComputeGate(IOptions<RotoOptions> options)
    {
        var configured = options.Value.Limits.InteractiveConcurrency;
        Capacity = configured > 0 ? configured : Math.Max(2, Environment.ProcessorCount);
        _slots = new SemaphoreSlim(Capacity, Capacity);
    }

    public int Capacity { get; }

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        return new Slot(_slots);
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}
