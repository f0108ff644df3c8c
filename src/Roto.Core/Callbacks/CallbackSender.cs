using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Roto.Core.Data;
using Roto.Core.Net;

namespace Roto.Core.Callbacks;

/// <summary>
/// Delivers pending callbacks in order per task, retrying with exponential back-off on timeouts and non-2xx answers
/// until about an hour has passed since its first attempt, then gives up and says so in the log. The webhook-id stays the
/// same across retries. Of several processes, each delivery attempt is made by one: it claims the callback with a
/// conditional update (owner and lease), and a process that dies mid-attempt leaves it to another once the lease lapses.
/// </summary>
public sealed class CallbackSender(IServiceScopeFactory scopes, OutboundHttp http, CallbackSignal signal, Cluster.Instance instance,
    IOptions<RotoOptions> options, ILogger<CallbackSender> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (sent, nextDueMs) = await SendDueAsync(stoppingToken);
                if (!sent) await signal.WaitAsync(UntilNext(nextDueMs), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Callback sender error");
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    /// <summary>Sleeps until the next retry is due (a short back-off is kept to the millisecond), at most a second.</summary>
    private static TimeSpan UntilNext(long? nextDueMs)
    {
        var wait = nextDueMs is { } due ? TimeSpan.FromMilliseconds(Math.Max(0, due - Ids.NowMs())) : TimeSpan.FromSeconds(1);
        return wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1);
    }

    /// <returns>Whether any callback was sent, and when the next pending one is due.</returns>
    private async Task<(bool Sent, long? NextDueMs)> SendDueAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        var now = Ids.NowMs();
        var pending = await db.Callbacks.AsNoTracking().Where(c => c.State == "pending").OrderBy(c => c.Id).Take(50).ToListAsync(ct);
        // One task's callbacks go out in order: only the oldest pending one of each task is due, even while another
        // process holds it.
        var heads = pending.GroupBy(c => c.TaskId).Select(g => g.First()).ToList();
        var due = heads.Where(c => c.NextAttemptAt <= now && c.LeaseExpiresAt < now).ToList();
        var sent = 0;
        foreach (var callback in due)
        {
            if (!await ClaimAsync(db, callback, ct)) continue;
            await DeliverAsync(callback, ct);
            await SaveAsync(db, callback);
            sent++;
        }
        var waiting = heads.Except(due).Select(c => (long?)Math.Max(c.NextAttemptAt, c.LeaseExpiresAt)).Min();
        return (sent > 0, waiting);
    }

    /// <summary>Makes this process the one that makes the callback's next attempt, if no other has claimed or made it.</summary>
    private async Task<bool> ClaimAsync(RotoDb db, CallbackRecord callback, CancellationToken ct)
    {
        var now = Ids.NowMs();
        var until = now + 2 * (long)options.Value.Callbacks.Timeout.TotalMilliseconds + 5_000;
        var me = instance.Id;
        var claimed = await db.Callbacks
            .Where(c => c.Id == callback.Id && c.State == "pending" && c.Attempts == callback.Attempts && c.NextAttemptAt <= now && c.LeaseExpiresAt < now)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.LeaseOwner, me).SetProperty(c => c.LeaseExpiresAt, until), ct);
        return claimed == 1;
    }

    /// <summary>Records the attempt's outcome and lets go of the claim.</summary>
    private async Task SaveAsync(RotoDb db, CallbackRecord c)
    {
        var me = instance.Id;
        await db.Callbacks.Where(x => x.Id == c.Id && x.LeaseOwner == me).ExecuteUpdateAsync(u => u
            .SetProperty(x => x.State, c.State)
            .SetProperty(x => x.Attempts, c.Attempts)
            .SetProperty(x => x.FirstAttemptAt, c.FirstAttemptAt)
            .SetProperty(x => x.NextAttemptAt, c.NextAttemptAt)
            .SetProperty(x => x.LastError, c.LastError)
            .SetProperty(x => x.LeaseOwner, (string?)null)
            .SetProperty(x => x.LeaseExpiresAt, 0L), CancellationToken.None);
    }

    private async Task DeliverAsync(CallbackRecord callback, CancellationToken ct)
    {
        var o = options.Value.Callbacks;
        // The retry budget runs from this callback's own first attempt: one queued behind an earlier callback of the
        // same task that took the whole budget would otherwise be abandoned after a single try.
        if (callback.Attempts == 0) callback.FirstAttemptAt = Ids.NowMs();
        callback.Attempts++;
        string? error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, callback.Url)
            {
                Content = new StringContent(callback.Payload, Encoding.UTF8, "application/json"),
            };
            request.Content.Headers.ContentType!.CharSet = "utf-8";
            if (!string.IsNullOrEmpty(options.Value.WebhookSecret))
            {
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                request.Headers.Add("webhook-id", callback.WebhookId);
                request.Headers.Add("webhook-timestamp", timestamp.ToString());
                request.Headers.Add("webhook-signature", WebhookSigner.Sign(options.Value.WebhookSecret, callback.WebhookId, timestamp, callback.Payload));
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(o.Timeout);
            using var response = await http.Client.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                callback.State = "delivered";
                callback.LastError = null;
                return;
            }
            error = $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or BlockedAddressException && !ct.IsCancellationRequested)
        {
            // Every reason names the receiver, so the log line alone tells an operator which endpoint is down.
            var receiver = new Uri(callback.Url).GetLeftPart(UriPartial.Authority);
            error = OutboundHttp.IsBlocked(ex) ? $"the callback address {receiver} is not allowed"
                : ex is OperationCanceledException ? $"{receiver} did not answer within {o.Timeout.TotalSeconds:0.#} s"
                : ex.Message.Contains(new Uri(callback.Url).Host, StringComparison.OrdinalIgnoreCase) ? ex.Message : $"{ex.Message} ({receiver})";
        }

        callback.LastError = error;
        var delay = TimeSpan.FromTicks(o.FirstRetryDelay.Ticks * (1L << Math.Min(callback.Attempts - 1, 10)));
        var next = Ids.NowMs() + (long)delay.TotalMilliseconds;
        if (next - callback.FirstAttemptAt > o.GiveUpAfter.TotalMilliseconds)
        {
            callback.State = "abandoned";
            log.LogWarning("Callback {WebhookId} for task {TaskId} abandoned after {Attempts} attempts: {Error}",
                callback.WebhookId, callback.TaskId, callback.Attempts, error);
            return;
        }
        callback.NextAttemptAt = next;
        log.LogInformation("Callback {WebhookId} for task {TaskId} failed ({Error}); retry {Attempt} in {Delay}",
            callback.WebhookId, callback.TaskId, error, callback.Attempts, delay);
    }
}
