using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Roto.Core.Net;

/// <summary>
/// The one HttpClient for requests to URLs that users give (videos, images, callbacks). The address check
/// happens in the connect callback on the address actually dialled, so DNS rebinding and redirects to private
/// addresses are caught at connect time, for every hop.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    private readonly IHostResolver _resolver;
    private readonly bool _allowPrivate;

    public OutboundHttp(IOptions<RotoOptions> options, IHostResolver resolver)
    {
        _resolver = resolver;
        _allowPrivate = options.Value.AllowPrivateNetworks;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 5,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
            AutomaticDecompression = DecompressionMethods.None,
        };
        Client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        Client.DefaultRequestHeaders.UserAgent.ParseAdd("Roto/1.0");
    }

    public HttpClient Client { get; }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await _resolver.ResolveAsync(host, ct);
        var allowed = addresses.Where(a => _allowPrivate || AddressPolicy.IsPublic(a)).ToArray();
        if (allowed.Length == 0)
            throw new BlockedAddressException($"{host} resolves to an address that Roto may not reach (loopback, private, link-local or reserved)");

        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
        }
        throw new HttpRequestException($"could not connect to {host}", last);
    }

    /// <summary>True when the exception chain says the address was refused by policy.</summary>
    public static bool IsBlocked(Exception ex)
    {
        for (var e = ex; e != null; e = e.InnerException)
            if (e is BlockedAddressException) return true;
        return false;
    }

    public void Dispose() => Client.Dispose();
}
