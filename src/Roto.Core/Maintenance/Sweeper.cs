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
/// </summary>
public sealed class Sweeper(IServiceScopeFactory scopes, IOptions<RotoOptions> options, ILogger<Sweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                await Task.Delay(options.Value.SweepInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Sweep failed");
                await Task.Delay(TimeSpan.FromMinutes(1), stoppingToken);
            }
        }
    }

    public async Task SweepAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var files = scope.ServiceProvider.GetRequiredService<FileStore>();
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

        var orphans = await DeleteOrphanFilesAsync(db, files, ct);
        if (expiredSessions.Count + oldTasks.Count + expiredUploads.Count + orphans > 0)
            log.LogInformation("Sweep removed {Sessions} sessions, {Tasks} tasks, {Uploads} uploads, {Orphans} orphan files",
                expiredSessions.Count, oldTasks.Count, expiredUploads.Count, orphans);
    }

    /// <summary>Files on disk with no record (older than a few minutes, so work in progress is left alone).</summary>
    private static async Task<int> DeleteOrphanFilesAsync(RotoDb db, FileStore files, CancellationToken ct)
    {
        var known = (await db.Files.Select(f => f.Key).ToListAsync(ct)).ToHashSet();
        var cutoff = DateTime.UtcNow - TimeSpan.FromMinutes(5);
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(files.Root, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(files.Root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (known.Contains(key) || File.GetLastWriteTimeUtc(path) > cutoff) continue;
            FileStore.TryDelete(path);
            removed++;
        }
        return removed;
    }
}
