namespace Roto.Client.Tests;

/// <summary>
/// Stands in for the network where the real server cannot produce the case: a dead socket, or a Kling/gateway
/// answer Roto never gives (maintenance 5001, an account-level 429, a proxy's HTML page).
/// </summary>
internal sealed class FuncHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
{
    public List<HttpRequestMessage> Requests { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        return Task.FromResult(respond(request));
    }
}
