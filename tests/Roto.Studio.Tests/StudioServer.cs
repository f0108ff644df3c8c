using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Roto.TestSupport;

namespace Roto.Studio.Tests;

/// <summary>
/// The real Roto server on a real Kestrel loopback port: a browser cannot talk to the in-memory test server.
/// Its data lives in a fresh temporary folder and it knows one API key.
/// </summary>
public sealed class StudioServer : WebApplicationFactory<Program>
{
    public const string ApiKey = "studio-test-key";

    private readonly string _dataDir = TestData.TempDir("roto-studio");

    public StudioServer()
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>The server's base address, e.g. http://127.0.0.1:40123/ (starts the server on first use).</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First().TrimEnd('/') + "/");
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Roto:DataDir", _dataDir);
        builder.UseSetting("Roto:ApiKeys:0", ApiKey);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try { Directory.Delete(_dataDir, recursive: true); }
            catch (IOException) { /* a file still open by a finishing worker; the temp folder is cleaned later */ }
        }
    }
}
