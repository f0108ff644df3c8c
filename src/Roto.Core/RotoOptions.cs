namespace Roto.Core;

/// <summary>Roto's configuration, bound from the "Roto" section (appsettings.json, environment Roto__X, command line).</summary>
public sealed class RotoOptions
{
    public const string Section = "Roto";

    /// <summary>Where the database, files and generated secrets live.</summary>
    public string DataDir { get; set; } = "./data";
    /// <summary>Bearer API keys; each is an account of its own. When empty, one is generated at first start.</summary>
    public List<string> ApiKeys { get; set; } = [];
    /// <summary>Kling-style access/secret key pairs for HS256 JWTs; each pair is an account of its own.</summary>
    public List<AccessKeyPair> AccessKeys { get; set; } = [];
    /// <summary>Lets video_url, image URLs and callbacks reach loopback and private networks (off by default).</summary>
    public bool AllowPrivateNetworks { get; set; }
    /// <summary>Base of the file URLs Roto hands out; empty uses the request's own scheme and host.</summary>
    public string? PublicBaseUrl { get; set; }
    /// <summary>Standard Webhooks secret (whsec_…) used to sign callbacks; none means unsigned.</summary>
    public string? WebhookSecret { get; set; }
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(24);
    public TimeSpan ResultLifetime { get; set; } = TimeSpan.FromDays(30);
    public TimeSpan UploadLifetime { get; set; } = TimeSpan.FromHours(24);
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// How old a file without an owner must be before the sweeper removes it: a live request may be between writing
    /// a file and recording it. Temporary folders of dead processes are removed at once (their lock is gone).
    /// </summary>
    public TimeSpan OrphanFileAge { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Edit tasks run at once by this process; 0 makes an API-only process that runs none.</summary>
    public int Workers { get; set; } = 1;
    /// <summary>Whether the engines' networks are loaded at start and a new session's first frame is decoded and analysed in the background, ahead of the first click.</summary>
    public bool WarmFirstFrame { get; set; } = true;
    /// <summary>How many times a task interrupted by a restart is started again before it fails.</summary>
    public int MaxTaskAttempts { get; set; } = 3;
    /// <summary>
    /// How long a worker's claim on a running task holds without a heartbeat (it renews it about every third of this).
    /// A task whose worker died is taken up again by another worker once its lease has lapsed.
    /// </summary>
    public TimeSpan TaskLease { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How often an idle worker looks for tasks queued by other processes. On PostgreSQL it is told at once
    /// (LISTEN/NOTIFY) and this is only the fallback; on SQLite it is how soon another process's task starts.
    /// </summary>
    public TimeSpan TaskPollInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>"all" (the default) serves the API and runs tasks; "api" runs no tasks; "worker" serves only /health.</summary>
    public string Role { get; set; } = RotoRoles.All;
    /// <summary>Key (base64, 32 bytes or more) that signs file URLs; empty uses the one generated into the data directory.</summary>
    public string? UrlSigningKey { get; set; }
    public DatabaseOptions Database { get; set; } = new();
    public CallbackOptions Callbacks { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public MediaOptions Media { get; set; } = new();
    public TrackingOptions Tracking { get; set; } = new();
    public ModelOptions Models { get; set; } = new();
}

public sealed class ModelOptions
{
    /// <summary>The models folder that scripts/models.sh fills; empty uses ROTO_MODELS_DIR, else ~/.cache/roto/models.</summary>
    public string? Dir { get; set; }
    /// <summary>"auto" serves the learned engines when their networks load, else the classical ones; "classical" always the classical ones.</summary>
    public string Engine { get; set; } = "auto";
    /// <summary>Another SAM image encoder export of the same signature (SAM ViT-B/H, MobileSAM, EdgeSAM) instead of the folder's.</summary>
    public string? Encoder { get; set; }
    /// <summary>Another SAM mask decoder export (the official ONNX signature) instead of the folder's.</summary>
    public string? Decoder { get; set; }
    /// <summary>Another U²-Net-family saliency export instead of the folder's.</summary>
    public string? Saliency { get; set; }
    /// <summary>Runs the encoder's linear layers in 8-bit integers, quantized at load: the encoder pass about a sixth faster and a first click on a frame about a fifth, for the same masks; false keeps them in float.</summary>
    public bool Int8Encoder { get; set; } = true;
    /// <summary>Encodes a frame on an input cut to its shape (1024×576 for 16:9) instead of SAM's padded 1024 square, where the encoder export allows it (the TinyViT that scripts/models.sh fetches); false keeps the square.</summary>
    public bool FitEncoderInput { get; set; } = true;
}

public static class RotoRoles
{
    public const string All = "all";
    public const string Api = "api";
    public const string Worker = "worker";

    public static bool RunsTasks(RotoOptions o) => !string.Equals(o.Role, Api, StringComparison.OrdinalIgnoreCase);
    public static bool ServesApi(RotoOptions o) => !string.Equals(o.Role, Worker, StringComparison.OrdinalIgnoreCase);
}

public sealed class DatabaseOptions
{
    /// <summary>"sqlite" (embedded, {DataDir}/roto.db) or "postgres" (needs <see cref="ConnectionString"/>; required for several hosts).</summary>
    public string Provider { get; set; } = "sqlite";
    /// <summary>Npgsql connection string for "postgres", e.g. Host=db;Database=roto;Username=roto;Password=…</summary>
    public string? ConnectionString { get; set; }

    public bool IsPostgres => Provider.Trim().ToLowerInvariant() switch
    {
        "sqlite" => false,
        "postgres" or "postgresql" or "npgsql" => true,
        _ => throw new InvalidOperationException($"Roto:Database:Provider must be sqlite or postgres, not \"{Provider}\""),
    };
}

public sealed class TrackingOptions
{
    /// <summary>
    /// Track by feature-matching label propagation (ResNet-18 features at about 480 lines) instead of optical flow and
    /// colour: better through turns and fast motion, but about half a second per frame on 2 cores, so a preview of a
    /// long clip takes minutes and outlasts the 30 s that common clients wait. With the SAM engine its key frames are
    /// corrected as the flow's are.
    /// </summary>
    public bool FeatureMatching { get; set; }

    /// <summary>
    /// With the SAM engine, a task's full-quality track is matched (as <see cref="FeatureMatching"/> tracks) when its
    /// clip has at most this many frames, and tracked by flow otherwise; 0 never matches. About 0.35 s a frame on 2 cores.
    /// </summary>
    public int TaskMatchingMaxFrames { get; set; } = 150;

    /// <summary>
    /// With the SAM engine, a preview of a clip of at most this many frames is matched on the frames SAM corrects, the
    /// flow carrying the mask between them, and tracked by flow alone beyond; 0 never matches a preview. A feature pass
    /// every second or third frame: a 4 s 1080p30 clip (120 frames) previewed in 22.4 s on a busy 2-core machine, inside
    /// the 30 s that clients wait; the matching stops 15 s into the tracking, so a busier machine stays inside them too.
    /// </summary>
    public int PreviewMatchingMaxFrames { get; set; } = 120;
}

public sealed class AccessKeyPair
{
    public string AccessKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
}

public sealed class CallbackOptions
{
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Retries stop after this long from the first attempt (decision 9: about an hour).</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(1);
}

public sealed class LimitOptions
{
    /// <summary>"kling" enforces Kling's input limits (decision 10); "relaxed" accepts what a self-hosted user brings.</summary>
    public string Profile { get; set; } = "kling";
    /// <summary>Unfinished tasks one account may have; more answers 429/1303.</summary>
    public int MaxConcurrentTasks { get; set; } = 5;
    /// <summary>Requests one account may make per minute; more answers 429/1302. 0 turns the limit off.</summary>
    public int RequestsPerMinute { get; set; } = 600;
    public long MaxUploadBytes { get; set; } = 500L * 1024 * 1024;
    public long MaxDownloadBytes { get; set; } = 500L * 1024 * 1024;
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(2);
    public long MaxImageBytes { get; set; } = 10L * 1024 * 1024;
    public long MaxRequestBodyBytes { get; set; } = 20L * 1024 * 1024;
    /// <summary>
    /// Free space that must stay on the data directory's disk: below it, new files are refused (uploads and
    /// sessions answer 503/5001, a task fails with a reason) rather than a disk filled to the last byte. 0 turns it off.
    /// </summary>
    public long MinFreeDiskBytes { get; set; } = 512L * 1024 * 1024;
    /// <summary>Heavy synchronous jobs (init, clicks, previews) run at once; more wait their turn. 0 = the core count (at least 2).</summary>
    public int InteractiveConcurrency { get; set; }
}

public sealed class MediaOptions
{
    public string FfmpegPath { get; set; } = "ffmpeg";
    public string FfprobePath { get; set; } = "ffprobe";
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(20);
    public TimeSpan TranscodeTimeout { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>A frame pipe from ffmpeg that delivers nothing this long counts as hung: ffmpeg is killed, the work fails.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);
    public string X264Preset { get; set; } = "veryfast";
    /// <summary>A click's frame is decoded by OpenCV's FFmpeg in process (about 0.2 s sooner than starting ffmpeg); false always starts ffmpeg.</summary>
    public bool DecodeClicksInProcess { get; set; } = true;
}
