using Roto.Core.Engines;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Core.Sessions;
using Roto.Server.Apis;
using Roto.Server.Auth;
using Roto.Server.Wire;
using Scalar.AspNetCore;

namespace Roto.Server;

/// <summary>The HTTP layer's services, middleware order and routes, in one readable place.</summary>
public static class ServerSetup
{
    public static IServiceCollection AddRotoServer(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(RotoOptions.Section).Get<RotoOptions>()?.Limits ?? new LimitOptions();
        services.Configure<KestrelServerOptions>(k =>
        {
            k.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(10));
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Limits.MaxConcurrentConnections = 1000;
        });
        services.ConfigureHttpJsonOptions(o => WireJson.Configure(o.SerializerOptions));
        services.AddSingleton<Accounts>();
        services.AddOpenApi(ApiDocument.Configure);
        services.AddCors();
        return services;
    }

    public static void UseRotoPipeline(this WebApplication app)
    {
        app.UseMiddleware<ErrorHandling>();
        if (!RotoRoles.ServesApi(app.Services.GetRequiredService<IOptions<RotoOptions>>().Value))
        {
            // A worker answers /health and nothing else: clients talk to the API processes.
            app.Use(async (http, next) =>
            {
                if (http.Request.Path.StartsWithSegments("/health")) await next(http);
                else await Envelopes.WriteErrorAsync(http, KlingCodes.NotFound, "this process is a worker (Roto:Role=worker); it serves only /health");
            });
        }
        app.UseStatusCodePages(ErrorHandling.StatusCodePageAsync);
        app.Use(async (http, next) =>
        {
            // The Studio page and API docs only load what the server itself serves.
            http.Response.Headers["Content-Security-Policy"] = http.Request.Path.StartsWithSegments("/docs")
                ? "default-src 'self' 'unsafe-inline' data: blob:"
                : "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            await next(http);
        });
        var origins = app.Configuration.GetSection("Roto:CorsOrigins").Get<string[]>() ?? [];
        if (origins.Length > 0) app.UseCors(c => c.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod().WithExposedHeaders("X-Request-Id"));
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseMiddleware<ApiGate>();
    }

    public static void MapRotoEndpoints(this WebApplication app)
    {
        foreach (var prefix in new[] { "/v1", "/kling/v1" })
        {
            app.MapMultiElementsApi(prefix);
            app.MapUploadsApi(prefix);
        }
        app.MapFilesApi();
        // Readiness says which role this process plays and which engines answer: the learned ones, or the classical
        // fallback and why.
        // warmed: the engines whose networks are loaded so far (loaded in the background after start); until both are,
        // the first click or preview waits for them, and a benchmark's timings would include loading.
        app.MapGet("/health", (EngineCatalog engines, FirstFrameWarmer warmer, IOptions<RotoOptions> o) =>
                Results.Json(new { status = "ok", role = o.Value.Role.ToLowerInvariant(), engines = engines.Report, warmed = warmer.LoadedEngines }, WireJson.Options))
            .WithTags("Operations");
        app.MapOpenApi();
        // Scalar's own toolbar (Deploy, Generate SDK, shown on localhost) and its AI chat advertise Scalar's hosted services,
        // which a self-hosted server's reference page has no business offering.
        app.MapScalarApiReference("/docs", o => o.WithTitle("Roto").WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .HideDeveloperTools().DisableAgent().DisableMcp());
    }

    /// <summary>Tells the person who started the server where it is and how to call it.</summary>
    public static void PrintBanner(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var accounts = app.Services.GetRequiredService<Accounts>();
            var options = app.Services.GetRequiredService<IOptions<RotoOptions>>().Value;
            var urls = string.Join(", ", app.Urls);
            Console.WriteLine($"Roto is listening on {urls}");
            Console.WriteLine($"  Studio:   {app.Urls.FirstOrDefault()}/");
            Console.WriteLine($"  API docs: {app.Urls.FirstOrDefault()}/docs");
            Console.WriteLine($"  Data:     {Path.GetFullPath(options.DataDir)} (input profile: {options.Limits.Profile})");
            if (accounts.GeneratedKey != null) Console.WriteLine($"  API key:  {accounts.GeneratedKey}");
            else Console.WriteLine("  API keys: from configuration (Roto:ApiKeys / Roto:AccessKeys)");
        });
    }
}
