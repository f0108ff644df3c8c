using System.Text.Json;
using Roto.Core.Data;
using Roto.Core.Tasks;

namespace Roto.Core.Callbacks;

/// <summary>Records a callback for a task's current state (decision 9); <see cref="CallbackSender"/> delivers it.</summary>
public sealed class CallbackQueue(TaskViews views, CallbackSignal signal)
{
    public async Task EnqueueAsync(RotoDb db, TaskRecord task, bool save, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(task.CallbackUrl)) return;
        var now = Ids.NowMs();
        db.Callbacks.Add(new CallbackRecord
        {
            TaskId = task.Id,
            WebhookId = $"msg_{Guid.NewGuid():N}",
            Url = task.CallbackUrl,
            Payload = JsonSerializer.Serialize(views.ToView(task), WireJson.Options),
            FirstAttemptAt = now,
            NextAttemptAt = now,
        });
        if (save) await db.SaveChangesAsync(ct);
        signal.Wake();
    }
}

public sealed class CallbackSignal
{
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    public void Wake() => _signal.Release();

    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        try { await _signal.WaitAsync(timeout, ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }
}
