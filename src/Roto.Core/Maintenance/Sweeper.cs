using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Roto.Core.Data;
using Roto.Core.Storage;

namespace Roto.Core.Maintenance;

/// <summary>
/// Removes expired sessions (24 h), results (30 days) and uploads, and files that nothing owns (left by a crash).
/// Of several processes on one database, one sweeps at a time: the holder of the sweeper lease, which it renews on
/// every sweep and which another process takes over once it has lapsed (two sweep intervals).
/// </summary>
public sealed class Sweeper(IServiceScopeFactory scopes, Cluster.Instance instance, IOptions<RotoOptions> options, ILogger<Sweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await TakeLeaseAsync(stoppingToken)) await SweepAsync(stoppingToken);
                await Task.Delay(options.Value.SweepInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                await ReleaseLeaseAsync();
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Sweep failed");
                await Task.Delay(TimeSpan.FromMinutes(1), stoppingToken);
            }
        }
    }

    /// <summary>Takes or renews the sweeper lease with one conditional update: at most one process wins it.</summary>
    private async Task<bool> TakeLeaseAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var now = Ids.NowMs();
        var until = now + 2 * (long)options.Value.SweepInterval.TotalMilliseconds;
        var me = instance.Id;
        return await db.Leases.Where(l => l.Name == RotoDb.SweeperLease && (l.Owner == me || l.ExpiresAt < now))
            .ExecuteUpdateAsync(u => u.SetProperty(l => l.Owner, me).SetProperty(l => l.ExpiresAt, until), ct) == 1;
    }

    /// <summary>On a clean shutdown the next process need not wait for the lease to lapse.</summary>
    private async Task ReleaseLeaseAsync()
    {
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
            var me = instance.Id;
            await db.Leases.Where(l => l.Name == RotoDb.SweeperLease && l.Owner == me)
                .ExecuteUpdateAsync(u => u.SetProperty(l => l.ExpiresAt, 0L), CancellationToken.None);
        }
        catch (Exception ex) { log.LogWarning(ex, "Could not release the sweeper lease"); }
    }

    public async Task SweepAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var files = scope.ServiceProvider.GetRequiredService<FileStore>();
        var store = scope.ServiceProvider.GetRequiredService<IFileStore>();
        var now = Ids.NowMs();

        var expiredSessions = await db.Sessions.Where(s => s.ExpiresAt < now).Select(s => s.Id).ToListAsync(ct);
        foreach (var id in expiredSessions)
        {
            await files.DeleteOwnedByAsync(db, id, ct);
            await db.Points.Where(p => p.SessionId == id).ExecuteDeleteAsync(ct);
            await db.FrameMasks.Where(m => m.SessionId == id).ExecuteDeleteAsync(ct);
            await db.Sessions.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        }

        var resultCutoff = now - (long)options.Value.ResultLifetime.TotalMilliseconds;
        var oldTasks = await db.Tasks.Where(t => t.FinishedAt != null && t.FinishedAt < resultCutoff).Select(t => t.Id).ToListAsync(ct);
        foreach (var id in oldTasks)
        {
            await files.DeleteOwnedByAsync(db, id, ct);
            await db.Callbacks.Where(c => c.TaskId == id).ExecuteDeleteAsync(ct);
            await db.Tasks.Where(t => t.Id == id).ExecuteDeleteAsync(ct);
        }

        var expiredUploads = await db.Files.Where(f => f.Kind == "upload" && f.ExpiresAt < now).Select(f => f.OwnerId).ToListAsync(ct);
        foreach (var id in expiredUploads) await files.DeleteOwnedByAsync(db, id, ct);

        var grace = options.Value.OrphanFileAge;
        var ownerless = await DeleteOwnerlessFilesAsync(db, store, now - (long)grace.TotalMilliseconds, ct);
        var orphans = await store.DeleteOrphansAsync(grace, async c => (await db.Files.Select(f => f.Key).ToListAsync(c)).ToHashSet(StringComparer.Ordinal), ct);
        if (expiredSessions.Count + oldTasks.Count + expiredUploads.Count + ownerless + orphans > 0)
            log.LogInformation("Sweep removed {Sessions} sessions, {Tasks} tasks, {Uploads} uploads, {Ownerless} files of vanished owners, {Orphans} orphan files",
                expiredSessions.Count, oldTasks.Count, expiredUploads.Count, ownerless, orphans);
    }

    /// <summary>
    /// Recorded files whose session or task was never saved: a process killed between storing a file and saving its
    /// owner (an init, a preview, a task's reference images) leaves such records behind, and nothing else would
    /// ever expire them. Uploads own themselves and expire on their own.
    /// </summary>
    private static async Task<int> DeleteOwnerlessFilesAsync(RotoDb db, IFileStore store, long createdBefore, CancellationToken ct)
    {
        var sessionFiles = await db.Files
            .Where(f => (f.Kind == "normalized" || f.Kind == "preview") && f.CreatedAt < createdBefore && !db.Sessions.Any(s => s.Id == f.OwnerId))
            .ToListAsync(ct);
        var taskFiles = await db.Files
            .Where(f => (f.Kind == "result" || f.Kind == "image") && f.CreatedAt < createdBefore && !db.Tasks.Any(t => t.Id == f.OwnerId))
            .ToListAsync(ct);
        var ownerless = sessionFiles.Concat(taskFiles).ToList();
        foreach (var f in ownerless) store.Delete(f.Key);
        db.Files.RemoveRange(ownerless);
        await db.SaveChangesAsync(ct);
        return ownerless.Count;
    }
}
