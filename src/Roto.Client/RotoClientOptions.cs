namespace Roto.Client;

/// <summary>Where the API lives, how to authenticate, and how patient to be.</summary>
public sealed class RotoClientOptions
{
    /// <summary>A Roto server on this machine with its default port.</summary>
    public const string DefaultBaseUrl = "http://127.0.0.1:8080";

    /// <summary>Kling's international endpoint, which speaks the same wire format.</summary>
    public const string KlingBaseUrl = "https://api-singapore.klingai.com";

    /// <summary>
    /// Root of the API; request paths such as <c>v1/videos/multi-elements</c> are resolved against it.
    /// A gateway that serves the API under a prefix is reached by including it, e.g. <c>https://gateway.example/kling/</c>.
    /// </summary>
    public Uri BaseUrl { get; set; } = new(DefaultBaseUrl);

    /// <summary>An API key, sent as <c>Authorization: Bearer &lt;key&gt;</c>. Ignored when an access/secret key pair is set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Kling access key: the <c>iss</c> of the HS256 token signed for every request. Needs <see cref="SecretKey"/>.</summary>
    public string? AccessKey { get; set; }

    /// <summary>Kling secret key: the HMAC-SHA256 key (its UTF-8 bytes) of the signed token. Needs <see cref="AccessKey"/>.</summary>
    public string? SecretKey { get; set; }

    /// <summary>How long each signed token is valid (Kling's example uses 30 minutes).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Limit for one HTTP exchange, retries included. Generous because preview-selection is synchronous and
    /// tracks the selection through the whole video before it answers.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Retries of rate-limited, overloaded and transiently failing requests.</summary>
    public RotoRetryOptions Retry { get; set; } = new();

    /// <summary>Default interval between two polls in <see cref="RotoClient.WaitForTaskAsync"/>.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Reads <c>ROTO_BASE_URL</c>, <c>ROTO_API_KEY</c>, <c>KLING_ACCESS_KEY</c> and <c>KLING_SECRET_KEY</c>.
    /// </summary>
    /// <param name="getVariable">Variable lookup; the process environment when null.</param>
    public static RotoClientOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var options = new RotoClientOptions
        {
            ApiKey = NullIfEmpty(getVariable("ROTO_API_KEY")),
            AccessKey = NullIfEmpty(getVariable("KLING_ACCESS_KEY")),
            SecretKey = NullIfEmpty(getVariable("KLING_SECRET_KEY")),
        };
        if (NullIfEmpty(getVariable("ROTO_BASE_URL")) is { } baseUrl) options.BaseUrl = new Uri(baseUrl, UriKind.Absolute);
        return options;
    }

    /// <summary>Throws when the settings cannot work together (half a key pair, a relative base URL).</summary>
    public void Validate()
    {
        if (!BaseUrl.IsAbsoluteUri) throw new ArgumentException("BaseUrl must be absolute", nameof(BaseUrl));
        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
            throw new ArgumentException("AccessKey and SecretKey must be given together");
        if (TokenLifetime <= TimeSpan.Zero) throw new ArgumentException("TokenLifetime must be positive", nameof(TokenLifetime));
    }

    /// <summary><see cref="BaseUrl"/> with a trailing slash, so relative paths append to it instead of replacing its last segment.</summary>
    internal Uri NormalizedBaseUrl =>
        BaseUrl.AbsoluteUri.EndsWith('/') ? BaseUrl : new Uri(BaseUrl.AbsoluteUri + "/");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>How retries back off. Applies to 1302/1303 (429), 5001 (503), 5002 (504) and transient network faults.</summary>
public sealed class RotoRetryOptions
{
    /// <summary>Retries after the first attempt; 0 disables retrying.</summary>
    public int MaxRetryAttempts { get; set; } = 6;

    /// <summary>First back-off delay; later ones grow exponentially (with jitter). Kling asks for at least one second.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of one back-off delay, also applied to a server's Retry-After.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Called before each retry, e.g. to tell a user why the tool is waiting.</summary>
    public Action<RetryNotice>? OnRetry { get; set; }
}

/// <summary>One retry about to happen.</summary>
/// <param name="Attempt">Number of the retry, from 1.</param>
/// <param name="Delay">How long the client waits before it.</param>
/// <param name="Code">The service code that caused it, or null for a network fault or a bare HTTP status.</param>
/// <param name="HttpStatus">The HTTP status that caused it, or null for a network fault.</param>
/// <param name="Exception">The network fault that caused it, if any.</param>
public sealed record RetryNotice(int Attempt, TimeSpan Delay, int? Code, int? HttpStatus, Exception? Exception);
