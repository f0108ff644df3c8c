using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Roto.Core.Net;

namespace Roto.Server.Tests;

/// <summary>
/// video_url, image URLs and callbacks never reach loopback or private addresses: a loopback listener counts the
/// connections that reach it, and the count stays 0.
/// </summary>
public sealed class UrlSafetyTests : IDisposable
{
    private const string B = "/v1/videos/multi-elements";
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private int _connections;
    private readonly CancellationTokenSource _stop = new();
    private readonly RotoApp _app;

    /// <summary>
    /// A resolver the test controls, answering loopback for every name (as a rebinding name does at connect time).
    /// It never answers a public address, so no test traffic leaves this machine.
    /// </summary>
    private sealed class LoopbackResolver : IHostResolver
    {
        public static int Calls;
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(new[] { IPAddress.Loopback, IPAddress.IPv6Loopback });
        }
    }

    public UrlSafetyTests()
    {
        _listener.Start();
        _ = AcceptLoopAsync();
        _app = new RotoApp(services: s => s.Replace(ServiceDescriptor.Singleton<IHostResolver, LoopbackResolver>()));
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    public static IEnumerable<object[]> PrivateForms() =>
    [
        ["http://127.0.0.1:{0}/v.mp4"],
        ["http://localhost:{0}/v.mp4"],
        ["http://2130706433:{0}/v.mp4"],
        ["http://0x7f000001:{0}/v.mp4"],
        ["http://0177.0.0.1:{0}/v.mp4"],
        ["http://[::ffff:127.0.0.1]:{0}/v.mp4"],
        ["http://[::1]:{0}/v.mp4"],
        ["http://0.0.0.0:{0}/v.mp4"],
        ["http://169.254.169.254/latest/meta-data/"],
    ];

    [Theory]
    [MemberData(nameof(PrivateForms))]
    public async Task Video_url_never_reaches_a_private_address(string form)
    {
        using var client = _app.Client();
        var url = string.Format(form, Port);
        var reply = await Wire.PostAsync(client, $"{B}/init-selection", new { video_url = url });
        reply.Error(400, 1201, "video_url");
        Assert.Equal(0, Volatile.Read(ref _connections));
    }

    [Fact]
    public async Task Names_are_checked_on_the_address_resolved_at_connect_time()
    {
        using var client = _app.Client();
        var before = Volatile.Read(ref LoopbackResolver.Calls);
        (await Wire.PostAsync(client, $"{B}/init-selection", new { video_url = $"http://media.example.test:{Port}/v.mp4" })).Error(400, 1201, "not allowed");
        Assert.True(Volatile.Read(ref LoopbackResolver.Calls) > before, "the connect step resolved the name itself");
        Assert.Equal(0, Volatile.Read(ref _connections));
    }

    [Fact]
    public async Task Image_urls_never_reach_a_private_address()
    {
        using var client = _app.Client();
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        var reply = await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "swap", prompt = "x", image_list = new[] { new { image = $"http://127.0.0.1:{Port}/a.png" } } });
        reply.Error(400, 1201, "image_list[0]");
        Assert.Equal(0, Volatile.Read(ref _connections));
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("93.184.216.34", true)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", true)]
    public void Address_policy(string address, bool isPublic) =>
        Assert.Equal(isPublic, AddressPolicy.IsPublic(IPAddress.Parse(address)));

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _app.Dispose();
    }
}
