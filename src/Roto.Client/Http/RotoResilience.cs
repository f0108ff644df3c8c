using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;

namespace Roto.Client.Http;

/// <summary>
/// The retry strategy: back off exponentially (with jitter, honouring Retry-After) on the service codes the wire
/// contract marks as "retry later" — 1302/1303 (rate and concurrency limits), 5001 (maintenance), 5002 (backlog) —
/// on a bare 502/503/504 from a proxy, and on network faults of requests that are safe to send twice.
/// A refused connection or an unknown host is retried only once the server has answered through this pipeline: before
/// that it means a stopped server or a mistyped URL, which back-off would only take half a minute to report; after it,
/// a server restarting.
/// </summary>
public static class RotoResilience
{
    /// <summary>Request option marking a request as safe to resend after a network fault (GETs always are).</summary>
    public static readonly HttpRequestOptionsKey<bool> Resendable = new("Roto.Resendable");

    private static readonly int[] RetriedCodes = [1302, 1303, 5001, 5002];

    /// <summary>Adds the retry strategy to a pipeline (e.g. inside <c>AddResilienceHandler</c>).</summary>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddRotoRetry(
        this ResiliencePipelineBuilder<HttpResponseMessage> builder, RotoRetryOptions options)
    {
        if (options.MaxRetryAttempts <= 0) return builder;
        var contact = new ServerContact();
        return builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = options.MaxRetryAttempts,
            Delay = options.BaseDelay,
            MaxDelay = options.MaxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = args =>
            {
                if (args.Outcome.Result is not null) contact.Answered = true;
                return ShouldRetryAsync(args.Outcome, args.Context.GetRequestMessage(), contact.Answered, args.Context.CancellationToken);
            },
            DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, options.MaxDelay)),
            OnRetry = async args =>
            {
                var response = args.Outcome.Result;
                var code = response is null ? null : await ReadCodeAsync(response, args.Context.CancellationToken);
                options.OnRetry?.Invoke(new RetryNotice(args.AttemptNumber + 1, args.RetryDelay, code,
                    response is null ? null : (int)response.StatusCode, args.Outcome.Exception));
            },
        });
    }

    /// <summary>A standalone pipeline, for <see cref="ResilienceHandler"/> outside dependency injection.</summary>
    public static ResiliencePipeline<HttpResponseMessage> CreatePipeline(RotoRetryOptions options) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>().AddRotoRetry(options).Build();

    internal static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request, bool serverAnswered,
        CancellationToken cancellationToken)
    {
        if (outcome.Exception is { } exception)
            return IsNetworkFault(exception, cancellationToken) && IsResendable(request) && (serverAnswered || !IsNobodyThere(exception));
        var response = outcome.Result!;
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
            return false;
        var code = await ReadCodeAsync(response, cancellationToken);
        // A 429 may also mean an account or whitelist problem (1100–1102, 1304) that waiting does not fix.
        return code is null ? response.StatusCode != HttpStatusCode.TooManyRequests : RetriedCodes.Contains(code.Value);
    }

    private static bool IsNetworkFault(Exception exception, CancellationToken cancellationToken) =>
        exception is HttpRequestException or IOException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested && exception.InnerException is TimeoutException);

    /// <summary>Connection refused, or a host name that does not resolve.</summary>
    public static bool IsNobodyThere(Exception exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }
        || exception is HttpRequestException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } };

    /// <summary>Whether any answer came back through the pipeline; shared by its requests, hence volatile.</summary>
    private sealed class ServerContact
    {
        private volatile bool _answered;
        public bool Answered { get => _answered; set => _answered = value; }
    }

    private static bool IsResendable(HttpRequestMessage? request) =>
        request is not null && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head
            || (request.Options.TryGetValue(Resendable, out var resendable) && resendable));

    /// <summary>The envelope's code of an error answer, or null when the body is not an envelope.</summary>
    private static async Task<int?> ReadCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            // Buffered so that the caller can still read the body when no retry happens.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (body.Length == 0) return null;
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("code", out var code) && code.TryGetInt32(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The server's Retry-After, capped; null lets the exponential back-off decide.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan maxDelay)
    {
        var header = response?.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (delay is null || delay <= TimeSpan.Zero) return null;
        return delay > maxDelay ? maxDelay : delay;
    }
}
