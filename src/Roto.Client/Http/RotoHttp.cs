using Microsoft.Extensions.Http.Resilience;

namespace Roto.Client.Http;

/// <summary>Builds the HTTP stack of a standalone client: retries outside, authorization inside (so each attempt is re-signed).</summary>
public static class RotoHttp
{
    /// <summary>An <see cref="HttpClient"/> for <paramref name="options"/> over <paramref name="innerHandler"/> (a plain socket handler when null).</summary>
    public static HttpClient CreateHttpClient(RotoClientOptions options, HttpMessageHandler? innerHandler = null)
    {
        options.Validate();
        var authorization = new RotoAuthorizationHandler(options) { InnerHandler = innerHandler ?? new SocketsHttpHandler() };
        var retries = new ResilienceHandler(RotoResilience.CreatePipeline(options.Retry)) { InnerHandler = authorization };
        return new HttpClient(retries) { BaseAddress = options.NormalizedBaseUrl, Timeout = options.RequestTimeout };
    }
}
