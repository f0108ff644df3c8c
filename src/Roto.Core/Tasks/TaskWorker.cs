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
/// Takes submitted tasks from the database (the durable queue) and runs them. On start it settles tasks a previous
/// process left in "processing": they run again, or fail with a reason after too many interruptions. On shutdown a
/// running task goes back to "submitted" so the next start resumes it.
/// </summary>
public sealed class TaskWorker(IServiceScopeFactory scopes, TaskSignal signal, IOptions<RotoOptions> options, ILogger<TaskWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Workers = 0 makes an API-only process: it queues tasks and leaves running them to others.
        if (options.Value.Workers <= 0) return;
        await RecoverInterruptedAsync(stoppingToken);
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
                taskId = await ClaimNextAsync(ct);
                if (taskId == null)
                {
                    await signal.WaitAsync(TimeSpan.FromSeconds(2), ct);
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

    private async Task RecoverInterruptedAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var callbacks = scope.ServiceProvider.GetRequiredService<CallbackQueue>();
        var stuck = await db.Tasks.Where(t => t.Status == TaskStatuses.Processing).ToListAsync(ct);
        foreach (var task in stuck)
        {
            task.UpdatedAt = Ids.NowMs();
            if (task.Attempts >= options.Value.MaxTaskAttempts)
            {
                task.Status = TaskStatuses.Failed;
                task.StatusMessage = $"the task was interrupted {task.Attempts} times by server restarts and was given up";
                task.FinishedAt = task.UpdatedAt;
                await callbacks.EnqueueAsync(db, task, save: false, ct);
                log.LogWarning("Task {TaskId} failed after {Attempts} interruptions", task.Id, task.Attempts);
            }
            else
            {
                task.Status = TaskStatuses.Submitted;
                task.Progress = 0;
                log.LogInformation("Task {TaskId} was interrupted by a restart and will run again", task.Id);
            }
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Moves the oldest submitted task to processing with a conditional update, so two workers never take the same one.</summary>
    private async Task<string?> ClaimNextAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        for (var tries = 0; tries < 5; tries++)
        {
            var next = await db.Tasks.AsNoTracking().Where(t => t.Status == TaskStatuses.Submitted)
                .OrderBy(t => t.CreatedAt).Select(t => t.Id).FirstOrDefaultAsync(ct);
            if (next == null) return null;
            var now = Ids.NowMs();
            var claimed = await db.Tasks.Where(t => t.Id == next && t.Status == TaskStatuses.Submitted)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, TaskStatuses.Processing)
                    .SetProperty(t => t.UpdatedAt, now)
                    .SetProperty(t => t.Attempts, t => t.Attempts + 1), ct);
            if (claimed == 1)
            {
                var task = await db.Tasks.FirstAsync(t => t.Id == next, ct);
                await scope.ServiceProvider.GetRequiredService<CallbackQueue>().EnqueueAsync(db, task, save: true, ct);
                return next;
            }
        }
        return null;
    }

    private async Task RunAsync(string taskId, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var files = scope.ServiceProvider.GetRequiredService<FileStore>();
        var callbacks = scope.ServiceProvider.GetRequiredService<CallbackQueue>();
        var pipeline = scope.ServiceProvider.GetRequiredService<EditPipeline>();
        var task = await db.Tasks.FirstAsync(t => t.Id == taskId, ct);
        await DeleteResultsOfInterruptedAttemptsAsync(db, files, taskId, ct);
        var started = DateTime.UtcNow;
        log.LogInformation("Task {TaskId} ({Mode}) started, attempt {Attempt}", taskId, task.RequestJson.Contains("\"removal\"") ? "removal" : "edit", task.Attempts);

        var progress = new ProgressReporter();
        using var saver = new CancellationTokenSource();
        var saving = SaveProgressAsync(taskId, progress, saver.Token);
        try
        {
            var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == task.SessionId, ct)
                ?? throw new Media.MediaException("the task's session has expired");
            var output = await pipeline.RunAsync(task, session, progress, ct);
            await saver.CancelAsync();
            await saving;

            var videoId = Ids.New();
            var resultKey = FileStore.NewKey("result", videoId, ".mp4");
            await files.AdoptAsync(db, output.ResultPath, resultKey, task.AccountId, "result", task.Id, "video/mp4", options.Value.ResultLifetime, ct);
            string? watermarkKey = null;
            if (output.WatermarkPath != null)
            {
                watermarkKey = FileStore.NewKey("result", $"{videoId}-wm", ".mp4");
                await files.AdoptAsync(db, output.WatermarkPath, watermarkKey, task.AccountId, "result", task.Id, "video/mp4", options.Value.ResultLifetime, ct);
            }
            await db.Entry(task).ReloadAsync(ct);
            task.Status = TaskStatuses.Succeed;
            task.StatusMessage = "";
            task.Progress = 100;
            task.ResultVideoId = videoId;
            task.ResultKey = resultKey;
            task.WatermarkKey = watermarkKey;
            task.ResultDuration = output.Seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            task.UpdatedAt = Ids.NowMs();
            task.FinishedAt = task.UpdatedAt;
            await callbacks.EnqueueAsync(db, task, save: false, ct);
            await db.SaveChangesAsync(ct);
            log.LogInformation("Task {TaskId} succeeded: {Frames} frames in {Seconds:0.0} s", taskId, output.Frames, (DateTime.UtcNow - started).TotalSeconds);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await saver.CancelAsync();
            // Shutting down: hand the task back so the next start resumes it.
            await db.Tasks.Where(t => t.Id == taskId && t.Status == TaskStatuses.Processing)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, TaskStatuses.Submitted).SetProperty(t => t.Progress, 0), CancellationToken.None);
            log.LogInformation("Task {TaskId} stopped by shutdown; it will resume on the next start", taskId);
            throw;
        }
        catch (Exception ex)
        {
            await saver.CancelAsync();
            await FailAsync(db, callbacks, taskId, ex);
        }
    }

    /// <summary>
    /// A task that runs has no result yet: a result stored by an attempt that was killed before it could mark the task
    /// done would otherwise stay on disk, owned but never served, until the task expires.
    /// </summary>
    private static async Task DeleteResultsOfInterruptedAttemptsAsync(RotoDb db, FileStore files, string taskId, CancellationToken ct)
    {
        var stale = await db.Files.Where(f => f.OwnerId == taskId && f.Kind == "result").ToListAsync(ct);
        if (stale.Count == 0) return;
        foreach (var f in stale) FileStore.TryDelete(files.PathOf(f.Key));
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
        db.ChangeTracker.Clear();
        var task = await db.Tasks.FirstAsync(t => t.Id == taskId, CancellationToken.None);
        task.Status = TaskStatuses.Failed;
        task.StatusMessage = reason;
        task.UpdatedAt = Ids.NowMs();
            task.FinishedAt = task.UpdatedAt;
        await callbacks.EnqueueAsync(db, task, save: false, CancellationToken.None);
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>Writes progress to the database about once a second while the task runs.</summary>
    private async Task SaveProgressAsync(string taskId, ProgressReporter progress, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var last = -1;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                var value = Math.Clamp((int)(progress.Value * 100), 0, 99);
                if (value == last) continue;
                last = value;
                await db.Tasks.Where(t => t.Id == taskId && t.Status == TaskStatuses.Processing)
                    .ExecuteUpdateAsync(u => u.SetProperty(t => t.Progress, value), ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) { log.LogWarning(ex, "Could not save progress of task {TaskId}", taskId); }
    }

    /// <summary>Keeps the latest progress without a synchronization context (engines report from worker threads).</summary>
    private sealed class ProgressReporter : IProgress<double>
    {
        private double _value;
        public double Value => Volatile.Read(ref _value);
        public void Report(double value) => Volatile.Write(ref _value, value);
    }
}
