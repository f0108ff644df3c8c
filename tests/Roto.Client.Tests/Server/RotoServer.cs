using Microsoft.AspNetCore.Mvc.Testing;
using Roto.Cli;
using Roto.TestSupport;

namespace Roto.Client.Tests.Server;

/// <summary>
/// The real Roto server in-process, with one API key and one access/secret key pair, and a concurrency limit of 1
/// so that a second task created while one runs meets 429/1303. Shared by every test that needs a server.
/// </summary>
public sealed class RotoServer : IDisposable
{
    public const string ApiKey = "client-tests-api-key";
    public const string AccessKey = "client-tests-access-key";
    public const string SecretKey = "client-tests-secret-key-0123456789";
    public const int ClipWidth = 320, ClipHeight = 180, ClipFrames = 30;

    private readonly Lazy<string> _syntheticClip;

    public RotoServer()
    {
        DataDir = TestData.TempDir("roto-client-server");
        Factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Roto:DataDir", DataDir);
            // The client's tests are about the wire; the learned engines are tested in Roto.Server.Tests and Roto.Vision.Tests.
            builder.UseSetting("Roto:Models:Engine", "classical");
            builder.UseSetting("Roto:ApiKeys:0", ApiKey);
            builder.UseSetting("Roto:AccessKeys:0:AccessKey", AccessKey);
            builder.UseSetting("Roto:AccessKeys:0:SecretKey", SecretKey);
            builder.UseSetting("Roto:Limits:MaxConcurrentTasks", "1");
            // Small synthetic clips keep the edits quick on two cores; the real clip passes this profile too.
            builder.UseSetting("Roto:Limits:Profile", "relaxed");
        });
        _syntheticClip = new(() => TestData.MakeVideo(TestData.TempDir("roto-client-clip"), "pattern.mp4", ClipWidth, ClipHeight, 1.0, "30", audio: false));
    }

    public WebApplicationFactory<Program> Factory { get; }

    public string DataDir { get; }

    /// <summary>A 1 s, 320×180, 30 fps test pattern (30 frames): quick to edit.</summary>
    public string SyntheticClip => _syntheticClip.Value;

    public Uri BaseUrl => Factory.Server.BaseAddress;

    /// <summary>A client over the in-process server; API key unless <paramref name="configure"/> says otherwise.</summary>
    public RotoClient CreateClient(Action<RotoClientOptions>? configure = null)
    {
        var options = new RotoClientOptions
        {
            BaseUrl = BaseUrl,
            ApiKey = ApiKey,
            PollInterval = TimeSpan.FromMilliseconds(500),
            Retry = new RotoRetryOptions { MaxRetryAttempts = 30, BaseDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(2) },
        };
        configure?.Invoke(options);
        return RotoClient.Create(options, Factory.Server.CreateHandler());
    }

    /// <summary>Runs the <c>roto</c> command line in-process against this server; credentials come from the environment given.</summary>
    public async Task<(int Code, string Stdout, string Stderr)> RunCliAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        environment ??= new Dictionary<string, string> { ["ROTO_BASE_URL"] = BaseUrl.ToString(), ["ROTO_API_KEY"] = ApiKey };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost
        {
            Out = stdout,
            Err = stderr,
            GetEnvironmentVariable = name => environment.GetValueOrDefault(name),
            CreateHandler = () => Factory.Server.CreateHandler(),
        };
        var code = await RotoCli.RunAsync(args, host);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        Factory.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A worker may still hold a file for a moment; the temp folder is cleaned by the system later.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<RotoServer>
{
    public const string Name = "roto server";
}
