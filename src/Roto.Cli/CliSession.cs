using System.CommandLine;
using System.Text.Json;
using Roto.Client;
using Spectre.Console;

namespace Roto.Cli;

/// <summary>One command's run: the API client built from options and environment, and the two consoles.</summary>
internal sealed class CliSession : IDisposable
{
    private readonly CliHost _host;

    private CliSession(CliHost host, RotoClient client, bool json, Uri baseUrl)
    {
        _host = host;
        BaseUrl = baseUrl;
        Client = client;
        Json = json;
        Out = host.CreateConsole(host.Out, host.OutIsTerminal);
        Err = host.CreateConsole(host.Err, host.Interactive);
    }

    public RotoClient Client { get; }

    /// <summary>The API root requests go to, for messages that must say where.</summary>
    public Uri BaseUrl { get; }

    public bool Json { get; }

    /// <summary>Results (stdout).</summary>
    public IAnsiConsole Out { get; }

    /// <summary>Progress and notes (stderr).</summary>
    public IAnsiConsole Err { get; }

    public static CliSession Create(CliHost host, GlobalOptions global, ParseResult parse)
    {
        // Options win over the environment; the environment wins over defaults.
        var options = RotoClientOptions.FromEnvironment(host.GetEnvironmentVariable);
        if (parse.GetValue(global.BaseUrl) is { Length: > 0 } baseUrl)
        {
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new CliUsageException($"--base-url '{baseUrl}' is not an http(s) URL");
            options.BaseUrl = uri;
        }
        if (parse.GetValue(global.ApiKey) is { Length: > 0 } apiKey) options.ApiKey = apiKey;
        if (parse.GetValue(global.AccessKey) is { Length: > 0 } accessKey) options.AccessKey = accessKey;
        if (parse.GetValue(global.SecretKey) is { Length: > 0 } secretKey) options.SecretKey = secretKey;
        if (string.IsNullOrEmpty(options.AccessKey) != string.IsNullOrEmpty(options.SecretKey))
            throw new CliUsageException("give both --access-key and --secret-key (or KLING_ACCESS_KEY and KLING_SECRET_KEY)");

        var maxRetries = options.Retry.MaxRetryAttempts;
        options.Retry.OnRetry = notice => host.Err.WriteLine(
            $"roto: {DescribeRetryCause(notice)}; retry {notice.Attempt} of {maxRetries} in {notice.Delay.TotalSeconds:0.0} s");
        var client = RotoClient.Create(options, host.CreateHandler?.Invoke());
        return new CliSession(host, client, parse.GetValue(global.Json), options.BaseUrl);
    }

    private static string DescribeRetryCause(RetryNotice notice) => notice switch
    {
        { Exception: { } e } => $"network error ({e.Message})",
        { Code: { } code } => $"server answered {code} (HTTP {notice.HttpStatus})",
        _ => $"server answered HTTP {notice.HttpStatus}",
    };

    /// <summary>Writes one plain result line (an id, URL or path) to stdout.</summary>
    public void Result(string line) => _host.Out.WriteLine(line);

    /// <summary>Writes an API object as indented JSON to stdout.</summary>
    public void ResultJson<T>(T value) => _host.Out.WriteLine(JsonSerializer.Serialize(value, JsonOutput));

    /// <summary>Writes a plain note to stderr.</summary>
    public void Note(string text) => _host.Err.WriteLine(text);

    public void Dispose() => Client.Dispose();

    private static readonly JsonSerializerOptions JsonOutput = new(RotoJson.Options) { WriteIndented = true };
}
