using System.Net.Http.Headers;

namespace Roto.Client.Http;

/// <summary>
/// Adds <c>Authorization: Bearer …</c> to requests for the API's own origin: a freshly signed token when an
/// access/secret key pair is configured, otherwise the API key. Requests to other hosts (result videos on a CDN)
/// go out without it, so credentials never leak to a third party.
/// </summary>
public sealed class RotoAuthorizationHandler : DelegatingHandler
{
    private readonly Uri _apiOrigin;
    private readonly string? _apiKey;
    private readonly KlingTokenSigner? _signer;

    /// <summary>Creates the handler from the client's options.</summary>
    public RotoAuthorizationHandler(RotoClientOptions options)
    {
        options.Validate();
        _apiOrigin = options.BaseUrl;
        if (!string.IsNullOrEmpty(options.AccessKey) && !string.IsNullOrEmpty(options.SecretKey))
            _signer = new KlingTokenSigner(options.AccessKey, options.SecretKey, options.TokenLifetime);
        else
            _apiKey = options.ApiKey;
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Set on every attempt (retries resend the same message) so each one carries a freshly signed token.
        if (IsApiOrigin(request.RequestUri) && Credential() is { } credential)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return base.SendAsync(request, cancellationToken);
    }

    private string? Credential() => _signer?.CreateToken() ?? _apiKey;

    private bool IsApiOrigin(Uri? uri) =>
        uri is null || !uri.IsAbsoluteUri ||
        Uri.Compare(uri, _apiOrigin, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
