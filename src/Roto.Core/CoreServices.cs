using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Roto.Core.Callbacks;
using Roto.Core.Data;
using Roto.Core.Engines;
using Roto.Core.Files;
using Roto.Core.Ingest;
using Roto.Core.Maintenance;
using Roto.Core.Net;
using Roto.Core.Sessions;
using Roto.Core.Storage;
using Roto.Core.Tasks;
using Roto.Core.Tracking;
using Roto.Core.Uploads;
using Roto.Media;
using Roto.Vision;
using Roto.Vision.Compositing;
using Roto.Vision.Features;
using Roto.Vision.Learned;
using Roto.Vision.Propagation;
using Roto.Vision.Removal;
using Roto.Vision.Segmentation;

namespace Roto.Core;

public static class CoreServices
{
    /// <summary>Everything below the HTTP layer: options, database, storage, media, engines, workers.</summary>
    public static IServiceCollection AddRotoCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RotoOptions>().Bind(configuration.GetSection(RotoOptions.Section));
        services.AddSingleton<DataDirectory>();
        services.AddSingleton<Cluster.Instance>();
        var settings = configuration.GetSection(RotoOptions.Section).Get<RotoOptions>() ?? new RotoOptions();
        CheckRole(settings.Role);
        if (settings.Database.IsPostgres)
        {
            var connection = settings.Database.ConnectionString;
            if (string.IsNullOrWhiteSpace(connection))
                throw new InvalidOperationException("Roto:Database:Provider is postgres but Roto:Database:ConnectionString is empty");
            services.AddDbContext<RotoDb, PostgresRotoDb>(o => o.UseNpgsql(connection));
        }
        else
        {
            services.AddDbContext<RotoDb, SqliteRotoDb>((sp, o) => o.UseSqlite(RotoDb.SqliteConnectionString(sp.GetRequiredService<DataDirectory>().Path)));
        }
        // The local data directory is the first home of stored files; shared storage would be another IFileStore.
        services.AddSingleton<IFileStore, LocalFileStore>();
        services.AddSingleton<FileStore>();

        services.AddSingleton(sp =>
        {
            var m = sp.GetRequiredService<IOptions<RotoOptions>>().Value.Media;
            return new MediaTools
            {
                FfmpegPath = m.FfmpegPath,
                FfprobePath = m.FfprobePath,
                ProbeTimeout = m.ProbeTimeout,
                TranscodeTimeout = m.TranscodeTimeout,
                StallTimeout = m.StallTimeout,
                X264Preset = m.X264Preset,
                InProcessFrames = m.DecodeClicksInProcess,
            };
        });
        services.AddSingleton<Ffprobe>();
        services.AddSingleton<VideoNormalizer>();

        services.AddSingleton<IHostResolver, DnsHostResolver>();
        services.AddSingleton<OutboundHttp>();
        services.AddSingleton<Downloader>();
        services.AddScoped<MediaSource>();
        services.AddScoped<ReferenceImages>();
        services.AddScoped<UploadService>();
        services.AddScoped<FileService>();

        // Engines: each behind its interface so a better one replaces it without touching anything above.
        // The learned engines when their networks load (EngineCatalog), the classical ones as the fallback.
        services.AddSingleton<EngineCatalog>();
        services.AddSingleton<IClickSegmenter>(sp => sp.GetRequiredService<EngineCatalog>().Models is { } models
            ? new SamClickSegmenter(models)
            : new FeatureGraphSegmenter());
        services.AddSingleton<IMaskPropagator>(sp =>
        {
            var models = sp.GetRequiredService<EngineCatalog>().Models;
            var tracking = sp.GetRequiredService<IOptions<RotoOptions>>().Value.Tracking;
            if (tracking.FeatureMatching)
                return new FlowColourPropagator { Features = FrameFeatures.ForTracking(), Anchor = models == null ? null : new SamTrackAnchor(models) };
            return models != null
                ? new FlowColourPropagator
                {
                    Anchor = new SamTrackAnchor(models),
                    WorkingWidth = SamTrackAnchor.WorkingWidth,
                    TaskFeatures = tracking.TaskMatchingMaxFrames > 0 ? FrameFeatures.ForTracking() : null,
                    TaskMatchingMaxFrames = tracking.TaskMatchingMaxFrames,
                    PreviewFeatures = tracking.PreviewMatchingMaxFrames > 0 ? FrameFeatures.ForTracking() : null,
                    PreviewMatchingMaxFrames = tracking.PreviewMatchingMaxFrames,
                }
                : new FlowColourPropagator();
        });
        services.AddSingleton<IElementRemover, FlowGuidedRemover>();
        services.AddSingleton<IElementCompositor, SceneCompositor>();
        services.AddSingleton<ISubjectExtractor>(sp => sp.GetRequiredService<EngineCatalog>().Models is { } models
            ? new SaliencySubjectExtractor(models)
            : new SubjectExtractor());
        services.AddSingleton<TrackBuilder>();

        services.AddSingleton<SessionLocks>();
        services.AddSingleton<ComputeGate>();
        services.AddSingleton<FrameCache>();
        services.AddSingleton<FirstFrameWarmer>();
        services.AddHostedService(sp => sp.GetRequiredService<FirstFrameWarmer>());
        services.AddScoped<SessionService>();
        services.AddScoped<PreviewService>();

        services.AddSingleton<TaskSignal>();
        services.AddSingleton<CallbackSignal>();
        services.AddSingleton<TaskViews>();
        services.AddScoped<CallbackQueue>();
        services.AddScoped<TaskService>();
        services.AddScoped<EditPipeline>();

        // An API process queues tasks and leaves running them, and sending their callbacks, to the workers.
        if (RotoRoles.RunsTasks(settings))
        {
            services.AddHostedService<TaskWorker>();
            services.AddHostedService<CallbackSender>();
            // Other processes queue tasks too: PostgreSQL tells this one at once instead of at its next poll.
            if (settings.Database.IsPostgres) services.AddHostedService<Cluster.WorkListener>();
        }
        services.AddSingleton<Sweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<Sweeper>());
        return services;
    }

    /// <summary>
    /// Applies migrations (EF Core takes a migration lock in the database, so processes starting together apply them
    /// once, one after the other) and sets SQLite to WAL so readers do not block the writer.
    /// </summary>
    public static async Task PrepareDatabaseAsync(IServiceProvider services, CancellationToken ct = default)
    {
        // Processes started together wait for each other's migrations: longer than the 30 s a command may take by
        // default when the machine is busy. And PostgreSQL can refuse the second of two concurrent
        // CREATE TABLE IF NOT EXISTS (of EF Core's history and lock tables) with a unique violation: a start tries again.
        var pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DbException>(),
                MaxRetryAttempts = 4,
                Delay = TimeSpan.FromSeconds(1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = a =>
                {
                    services.GetRequiredService<ILoggerFactory>().CreateLogger("Roto.Core.Database")
                        .LogWarning("Preparing the database failed ({Reason}); trying again", a.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        await pipeline.ExecuteAsync(async token =>
        {
            using var scope = services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
            db.Database.SetCommandTimeout(TimeSpan.FromMinutes(5));
            if (!db.IsPostgres) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", token);
            await db.Database.MigrateAsync(token);
        }, ct);
    }

    private static void CheckRole(string role)
    {
        if (role.ToLowerInvariant() is not (RotoRoles.All or RotoRoles.Api or RotoRoles.Worker))
            throw new InvalidOperationException($"Roto:Role must be all, api or worker, not \"{role}\"");
    }
}
