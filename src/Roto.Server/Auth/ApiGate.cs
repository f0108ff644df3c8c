using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Server.Wire;

namespace Roto.Server.Auth;

/// <summary>
/// In front of the API: who is calling (401 and codes 1001–1004 otherwise) and whether the account is over its
/// request rate (429/1302). The account id travels in HttpContext.Items.
/// </summary>
public sealed class ApiGate : IDisposable
{
    private const string AccountKey = "roto.account";
    private readonly RequestDelegate _next;
    private readonly Accounts _accounts;
    private readonly PartitionedRateLimiter<string>? _limiter;

    public ApiGate(RequestDelegate next, Accounts accounts, IOptions<RotoOptions> options)
    {
        _next = next;
        _accounts = accounts;
        var perMinute = options.Value.Limits.RequestsPerMinute;
        if (perMinute > 0)
            _limiter = PartitionedRateLimiter.Create<string, string>(account => RateLimitPartition.GetFixedWindowLimiter(account,
                _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    public static string AccountOf(HttpContext http) => (string)http.Items[AccountKey]!;

    public static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/kling/v1");

    public async Task InvokeAsync(HttpContext http)
    {
        if (!IsApiPath(http.Request.Path))
        {
            await _next(http);
            return;
        }
        string account;
        try
        {
            account = _accounts.Authenticate(http.Request.Headers.Authorization);
        }
        catch (KlingError e)
        {
            await Envelopes.WriteErrorAsync(http, e.Code, e.Message);
            return;
        }
        if (_limiter != null)
        {
            using var lease = _limiter.AttemptAcquire(account);
            if (!lease.IsAcquired)
            {
                http.Response.Headers.RetryAfter = "60";
                await Envelopes.WriteErrorAsync(http, KlingCodes.RateLimited, "request rate too high: slow down and retry");
                return;
            }
        }
        http.Items[AccountKey] = account;
        await _next(http);
    }

    public void Dispose() => _limiter?.Dispose();
}
