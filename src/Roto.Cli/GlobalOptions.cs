using System.CommandLine;

namespace Roto.Cli;

/// <summary>Options every command takes: where the API is, how to authenticate, how to print.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> BaseUrl { get; } = new("--base-url")
    {
        Description = "API root (env ROTO_BASE_URL; default http://127.0.0.1:8080, Kling: https://api-singapore.klingai.com)",
        Recursive = true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key sent as a Bearer token (env ROTO_API_KEY)",
        Recursive = true,
    };

    public Option<string?> AccessKey { get; } = new("--access-key")
    {
        Description = "Kling access key; with --secret-key, each request carries a freshly signed HS256 token (env KLING_ACCESS_KEY)",
        Recursive = true,
    };

    public Option<string?> SecretKey { get; } = new("--secret-key")
    {
        Description = "Kling secret key (env KLING_SECRET_KEY)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the API's answer as JSON on stdout instead of plain values",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(BaseUrl);
        root.Options.Add(ApiKey);
        root.Options.Add(AccessKey);
        root.Options.Add(SecretKey);
        root.Options.Add(Json);
    }
}
