using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Roto.Core.Callbacks;
using Roto.Core.Data;
using Roto.Core.Storage;

namespace Roto.Core.Tasks;

/// <summary>
/// Takes submitted tasks from the database (the durable queue) and runs them. The database is the only coordinator
/// between processes: a worker claims a task with one atomic update that names it the owner until a lease expires,
/// renews the lease while it runs, and writes the outcome only while it still owns the task. A task whose worker died
/// (its lease lapsed) goes back to the queue for any worker, or fails with a reason after too many interruptions. On
/// shutdown a running task goes back to "submitted" at once.
/// </summary>
public sealed class TaskWorker(IServiceScopeFactory scopes, TaskSignal signal, Cluster.Instance instance, IOptions<RotoOptions> options,
    ILogger<TaskWorker> log) : BackgroundService
{
    private string Me => instance.Id;
    private TimeSpan Lease => options.Value.TaskLease;
    private long _nextRecoveryMs;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Workers = 0 makes an API-only process: it queues tasks and leaves running them to others.
        if (options.Value.Workers <= 0) return;
        var workers = Enumerable.Range(0, options.Value.Workers).Select(_ => LoopAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            string? taskId = null;
            try
            {
                await RecoverLapsedIfDueAsync(ct);
                taskId = await ClaimNextAsync(ct);
                if (taskId == null)
                {
                    // Another process's new task only shows up on the next look: the signal wakes this process's own.
                    await signal.WaitAsync(options.Value.TaskPollInterval, ct);
                    continue;
                }
                await RunAsync(taskId, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The loop must outlive any one failure (a busy database, say).
                log.LogError(ex, "Task worker error (task {TaskId})", taskId);
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    /// <summary>About every half lease, looks for tasks whose worker stopped renewing its lease.</summary>
    private async Task RecoverLapsedIfDueAsync(CancellationToken ct)
    {
        var now = Ids.NowMs();
        var due = Interlocked.Read(ref _nextRecoveryMs);
        if (now < due || Interlocked.CompareExchange(ref _nextRecoveryMs, now + (long)(Lease.TotalMilliseconds / 2), due) != due) return;
        await RecoverLapsedAsync(ct);
    }

    /// <summary>
    /// Settles tasks left in "processing" by a worker that is gone (its lease lapsed): each goes back to the queue, or
    /// fails with a reason once it has been started <see cref="RotoOptions.MaxTaskAttempts"/> times. Each row changes
    /// with a conditional update, so when several processes look at once exactly one settles it.
    /// </summary>
    private async Task RecoverLapsedAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var callbacks = scope.ServiceProvider.GetRequiredService<CallbackQueue>();
        var now = Ids.NowMs();
        var lapsed = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == TaskStatuses.Processing && t.LeaseExpiresAt < now)
            .Select(t => new { t.Id, t.Attempts, t.LeaseExpiresAt }).ToListAsync(ct);
        foreach (var stuck in lapsed)
        {
            var giveUp = stuck.Attempts >= options.Value.MaxTaskAttempts;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var mine = db.Tasks.Where(t => t.Id == stuck.Id && t.Status == TaskStatuses.Processing && t.LeaseExpiresAt == stuck.LeaseExpiresAt);
            var message = $"the task was interrupted {stuck.Attempts} times (its worker stopped or died) and was given up";
            var changed = giveUp
                ? await mine.ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, TaskStatuses.Failed)
                    .SetProperty(t => t.StatusMessage, message)
                    .SetProperty(t => t.UpdatedAt, now)
                    .SetProperty(t => t.FinishedAt, now)
                    .SetProperty(t => t.LeaseOwner, (string?)null), ct)
                : await mine.ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, TaskStatuses.Submitted)
                    .SetProperty(t => t.Progress, 0)
                    .SetProperty(t => t.UpdatedAt, now)
                    .SetProperty(t => t.LeaseOwner, (string?)null), ct);
            if (changed == 0) continue; // another process settled it first
            if (giveUp)
            {
                var task = await db.Tasks.FirstAsync(t => t.Id == stuck.Id, ct);
                await callbacks.EnqueueAsync(db, task, save: true, ct);
                log.LogWarning("Task {TaskId} failed after {Attempts} interruptions", stuck.Id, stuck.Attempts);
            }
            else
            {
                log.LogInformation("Task {TaskId} lost its worker and will run again", stuck.Id);
            }
            await tx.CommitAsync(ct);
            db.ChangeTracker.Clear();
            if (!giveUp) signal.Wake();
        }
    }

    /// <summary>
    /// Moves the oldest submitted task to processing, owned by this process until its lease expires, in one
    /// statement: on PostgreSQL the row is picked with FOR UPDATE SKIP LOCKED so concurrent workers take different
    /// tasks without waiting; SQLite runs one writer at a time, so its single UPDATE is atomic as it stands.
    /// </summary>
    private async Task<string?> ClaimNextAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var now = Ids.NowMs();
        var until = now + (long)Lease.TotalMilliseconds;
        var me = Me;
        var claimed = db.IsPostgres
            ? await db.Database.SqlQuery<string>($"""
                UPDATE "Tasks" SET "Status" = 'processing', "LeaseOwner" = {me}, "LeaseExpiresAt" = {until},
                    "Attempts" = "Attempts" + 1, "UpdatedAt" = {now}, "Progress" = 0
                WHERE "Id" = (SELECT "Id" FROM "Tasks" WHERE "Status" = 'submitted' ORDER BY "CreatedAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING "Id" AS "Value"
                """).ToListAsync(ct)
            : await db.Database.SqlQuery<string>($"""
                UPDATE "Tasks" SET "Status" = 'processing', "LeaseOwner" = {me}, "LeaseExpiresAt" = {until},
                    "Attempts" = "Attempts" + 1, "UpdatedAt" = {now}, "Progress" = 0
                WHERE "Id" = (SELECT "Id" FROM "Tasks" WHERE "Status" = 'submitted' ORDER BY "CreatedAt" LIMIT 1) AND "Status" = 'submitted'
                RETURNING "Id" AS "Value"
                """).ToListAsync(ct);
        if (claimed.Count == 0) return null;
        var task = await db.Tasks.FirstAsync(t => t.Id == claimed[0], ct);
        await scope.ServiceProvider.GetRequiredService<CallbackQueue>().EnqueueAsync(db, task, save: true, ct);
        return task.Id;
    }

    private async Task RunAsync(string taskId, CancellationToken stoppingToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var files = scope.ServiceProvider.GetRequiredService<FileStore>();
        var store = scope.ServiceProvider.GetRequiredService<IFileStore>();
        var callbacks = scope.ServiceProvider.GetRequiredService<CallbackQueue>();
        var pipeline = scope.ServiceProvider.GetRequiredService<EditPipeline>();
        var task = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == taskId, stoppingToken);
        await DeleteResultsOfInterruptedAttemptsAsync(db, store, taskId, stoppingToken);
        var started = DateTime.UtcNow;
        log.LogInformation("Task {TaskId} ({Mode}) started, attempt {Attempt}", taskId, task.RequestJson.Contains("\"removal\"") ? "removal" : "edit", task.Attempts);

        var progress = new ProgressReporter();
        // Stops the work when the lease is lost (the database said another process owns the task, or this one could
        // not renew it in time): whatever it would write now might overwrite the new owner's.
        using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var ct = leaseLost.Token;
        using var saver = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(taskId, progress, leaseLost, saver.Token);
        var adopted = new List<string>();
        try
        {
            var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == task.SessionId, ct)
                ?? throw new Media.MediaException("the task's session has expired");
            var output = await pipeline.RunAsync(task, session, progress, ct);

            var videoId = Ids.New();
            var resultKey = FileStore.NewKey("result", videoId, ".mp4");
            await files.AdoptAsync(db, output.ResultPath, resultKey, task.AccountId, "result", task.Id, "video/mp4", options.Value.ResultLifetime, ct);
            adopted.Add(resultKey);
            string? watermarkKey = null;
            if (output.WatermarkPath != null)
            {
                watermarkKey = FileStore.NewKey("result", $"{videoId}-wm", ".mp4");
                await files.AdoptAsync(db, output.WatermarkPath, watermarkKey, task.AccountId, "result", task.Id, "video/mp4", options.Value.ResultLifetime, ct);
                adopted.Add(watermarkKey);
            }
            await saver.CancelAsync();
            await heartbeat;
            var duration = output.Seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            var now = Ids.NowMs();
            var won = await FinishIfOwnedAsync(db, callbacks, taskId, q => q.ExecuteUpdateAsync(u => u
                .SetProperty(t => t.Status, TaskStatuses.Succeed)
                .SetProperty(t => t.StatusMessage, "")
                .SetProperty(t => t.Progress, 100)
                .SetProperty(t => t.ResultVideoId, videoId)
                .SetProperty(t => t.ResultKey, resultKey)
                .SetProperty(t => t.WatermarkKey, watermarkKey)
                .SetProperty(t => t.ResultDuration, duration)
                .SetProperty(t => t.UpdatedAt, now)
                .SetProperty(t => t.FinishedAt, now)
                .SetProperty(t => t.LeaseOwner, (string?)null), CancellationToken.None));
            if (!won)
            {
                await DeleteAdoptedAsync(db, store, adopted);
                log.LogWarning("Task {TaskId} finished here after its lease was lost; the result of this attempt was discarded", taskId);
                return;
            }
            log.LogInformation("Task {TaskId} succeeded: {Frames} frames in {Seconds:0.0} s", taskId, output.Frames, (DateTime.UtcNow - started).TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await saver.CancelAsync();
            await DeleteAdoptedAsync(db, store, adopted);
            // Shutting down: hand the task back so the next start (or another worker) resumes it.
            var me = Me;
            await db.Tasks.Where(t => t.Id == taskId && t.Status == TaskStatuses.Processing && t.LeaseOwner == me)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, TaskStatuses.Submitted).SetProperty(t => t.Progress, 0)
                    .SetProperty(t => t.LeaseOwner, (string?)null).SetProperty(t => t.LeaseExpiresAt, 0L), CancellationToken.None);
            log.LogInformation("Task {TaskId} stopped by shutdown; it will resume on the next start", taskId);
            throw;
        }
        catch (OperationCanceledException) when (leaseLost.IsCancellationRequested)
        {
            await saver.CancelAsync();
            await DeleteAdoptedAsync(db, store, adopted);
            log.LogWarning("Task {TaskId} stopped here: this process lost its lease on it", taskId);
        }
        catch (Exception ex)
        {
            await saver.CancelAsync();
            await DeleteAdoptedAsync(db, store, adopted);
            await FailAsync(db, callbacks, taskId, ex);
        }
        finally
        {
            await saver.CancelAsync();
            await heartbeat;
        }
    }

    /// <summary>
    /// Writes a task's outcome and its callback in one transaction, if this process still owns the task. A worker
    /// whose lease lapsed (a long pause, a lost connection) must not overwrite what the task's new owner writes.
    /// </summary>
    private async Task<bool> FinishIfOwnedAsync(RotoDb db, CallbackQueue callbacks, string taskId, Func<IQueryable<TaskRecord>, Task<int>> update)
    {
        db.ChangeTracker.Clear();
        var me = Me;
        await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var changed = await update(db.Tasks.Where(t => t.Id == taskId && t.Status == TaskStatuses.Processing && t.LeaseOwner == me));
        if (changed == 0) return false;
        var task = await db.Tasks.FirstAsync(t => t.Id == taskId, CancellationToken.None);
        await callbacks.EnqueueAsync(db, task, save: true, CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        return true;
    }

    /// <summary>The files this attempt stored for a task it could not finish as owner.</summary>
    private static async Task DeleteAdoptedAsync(RotoDb db, IFileStore store, List<string> keys)
    {
        if (keys.Count == 0) return;
        db.ChangeTracker.Clear();
        await db.Files.Where(f => keys.Contains(f.Key)).ExecuteDeleteAsync(CancellationToken.None);
        foreach (var key in keys) store.Delete(key);
    }

    /// <summary>
    /// A task that runs has no result yet: a result stored by an attempt that was killed before it could mark the task
    /// done would otherwise stay on disk, owned but never served, until the task expires.
    /// </summary>
    private static async Task DeleteResultsOfInterruptedAttemptsAsync(RotoDb db, IFileStore store, string taskId, CancellationToken ct)
    {
        var stale = await db.Files.Where(f => f.OwnerId == taskId && f.Kind == "result").ToListAsync(ct);
        if (stale.Count == 0) return;
        foreach (var f in stale) store.Delete(f.Key);
        db.Files.RemoveRange(stale);
        await db.SaveChangesAsync(ct);
    }

    private async Task FailAsync(RotoDb db, CallbackQueue callbacks, string taskId, Exception ex)
    {
        var reason = ex switch
        {
            Media.MediaException or KlingError => ex.Message,
            IOException io when io.HResult == 28 || io.Message.Contains("space", StringComparison.OrdinalIgnoreCase) => "the server ran out of disk space",
            _ => "internal error while editing the video",
        };
        log.LogError(ex, "Task {TaskId} failed: {Reason}", taskId, reason);
        var now = Ids.NowMs();
        var won = await FinishIfOwnedAsync(db, callbacks, taskId, q => q.ExecuteUpdateAsync(u => u
            .SetProperty(t => t.Status, TaskStatuses.Failed)
            .SetProperty(t => t.StatusMessage, reason)
            .SetProperty(t => t.UpdatedAt, now)
            .SetProperty(t => t.FinishedAt, now)
            .SetProperty(t => t.LeaseOwner, (string?)null), CancellationToken.None));
        if (!won) log.LogWarning("Task {TaskId} failed here after its lease was lost; the failure was not recorded", taskId);
    }

    /// <summary>
    /// While the task runs: renews its lease (about three times a lease) and saves progress (about once a second) in
    /// one conditional update. When the update finds the task no longer ours, or no renewal has succeeded for a whole
    /// lease, the run is cancelled through <paramref name="leaseLost"/>.
    /// </summary>
    private async Task HeartbeatAsync(string taskId, ProgressReporter progress, CancellationTokenSource leaseLost, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var me = Me;
        var lease = (long)Lease.TotalMilliseconds;
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(lease / 3, 50, 1000));
        var renewed = Ids.NowMs();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(tick, ct);
                var value = Math.Clamp((int)(progress.Value * 100), 0, 99);
                var now = Ids.NowMs();
                try
                {
                    var held = await db.Tasks.Where(t => t.Id == taskId && t.Status == TaskStatuses.Processing && t.LeaseOwner == me)
                        .ExecuteUpdateAsync(u => u.SetProperty(t => t.Progress, value).SetProperty(t => t.LeaseExpiresAt, now + lease), ct);
                    if (held == 0)
                    {
                        log.LogWarning("Task {TaskId}: another process owns it now", taskId);
                        await leaseLost.CancelAsync();
                        return;
                    }
                    renewed = now;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogWarning(ex, "Could not renew the lease of task {TaskId}", taskId);
                    if (Ids.NowMs() - renewed >= lease)
                    {
                        await leaseLost.CancelAsync();
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Keeps the latest progress without a synchronization context (engines report from worker threads).</summary>
    private sealed class ProgressReporter : IProgress<double>
    {
        private double _value;
        public double Value => Volatile.Read(ref _value);
        public void Report(double value) => Volatile.Write(ref _value, value);
    }
}
