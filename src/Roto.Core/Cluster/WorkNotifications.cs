using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Roto.Core.Callbacks;
using Roto.Core.Data;
using Roto.Core.Tasks;

namespace Roto.Core.Cluster;

/// <summary>
/// PostgreSQL's LISTEN/NOTIFY between processes: an API process that queues a task says so on a channel, and the
/// workers listening wake at once instead of at their next poll (every 2 s). The poll stays as the fallback, so a lost
/// notification or a dropped listening connection only costs latency, never a task.
/// </summary>
public static class WorkNotifications
{
    /// <summary>A task was queued (or its callback, which workers deliver).</summary>
    public const string Channel = "roto_work";

    /// <summary>Sends the notification in the current transaction: PostgreSQL delivers it when that commits, so no worker wakes before the row is visible.</summary>
    public static async Task NotifyAsync(RotoDb db, CancellationToken ct)
    {
        if (db.IsPostgres) await db.Database.ExecuteSqlRawAsync($"NOTIFY {Channel}", ct);
    }
}

/// <summary>Listens on <see cref="WorkNotifications.Channel"/> in a worker process and wakes its task worker and callback sender.</summary>
public sealed class WorkListener(IOptions<RotoOptions> options, TaskSignal tasks, CallbackSignal callbacks, ILogger<WorkListener> log)
    : BackgroundService
{
    /// <summary>How long to wait before listening again after the connection dropped (the database restarting, say).</summary>
    public static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(options.Value.Database.ConnectionString);
                connection.Notification += (_, _) =>
                {
                    tasks.Wake();
                    callbacks.Wake();
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {WorkNotifications.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                // Work queued while this process was not listening is found by the poll that follows a wake-up.
                tasks.Wake();
                while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                log.LogWarning("Not listening for new work ({Reason}); polling every 2 s until listening again in {Seconds} s", ex.Message, Reconnect.TotalSeconds);
                try { await Task.Delay(Reconnect, stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
