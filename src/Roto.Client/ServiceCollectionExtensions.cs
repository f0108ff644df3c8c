using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Roto.Client.Http;

namespace Roto.Client;

/// <summary>Registers <see cref="RotoClient"/> with <see cref="IHttpClientFactory"/>.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers a transient <see cref="RotoClient"/> over a named HttpClient (<see cref="RotoClient.HttpClientName"/>)
    /// with the authorization handler and the retry pipeline. Returns the client builder for further handlers.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets base URL, credentials, retries.</param>
    public static IHttpClientBuilder AddRotoClient(this IServiceCollection services, Action<RotoClientOptions> configure)
    {
        services.AddOptions<RotoClientOptions>().Configure(configure).Validate(o => { o.Validate(); return true; });
        var builder = services.AddHttpClient(RotoClient.HttpClientName, (provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<RotoClientOptions>>().Value;
            http.BaseAddress = options.NormalizedBaseUrl;
            http.Timeout = options.RequestTimeout;
        });
        builder.AddResilienceHandler("roto-retry", (pipeline, context) =>
            pipeline.AddRotoRetry(context.ServiceProvider.GetRequiredService<IOptions<RotoClientOptions>>().Value.Retry));
        builder.AddHttpMessageHandler(provider =>
            new RotoAuthorizationHandler(provider.GetRequiredService<IOptions<RotoClientOptions>>().Value));
        services.AddTransient(provider => new RotoClient(
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(RotoClient.HttpClientName),
            provider.GetRequiredService<IOptions<RotoClientOptions>>().Value));
        return builder;
    }
}
