using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Roto.Client.Http;

/// <summary>
/// Signs the HS256 JSON Web Token that Kling's access/secret key scheme expects:
/// header <c>{"alg":"HS256","typ":"JWT"}</c>, payload <c>{"iss": accessKey, "exp": now + lifetime, "nbf": now - 5}</c>,
/// HMAC-SHA256 keyed with the secret's UTF-8 bytes.
/// </summary>
/// <remarks>
/// Written by hand (a dozen lines over <see cref="HMACSHA256"/>) rather than with Microsoft.IdentityModel.JsonWebTokens
/// so that the client package carries no token library and its dependency chain; the tests check the tokens
/// with that library's validator, an independent implementation.
/// </remarks>
public sealed class KlingTokenSigner
{
    private static readonly byte[] EncodedHeader = Encoding.ASCII.GetBytes(Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8));

    private readonly string _accessKey;
    private readonly byte[] _secret;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    /// <summary>Creates a signer for one key pair.</summary>
    /// <param name="accessKey">Goes into <c>iss</c>.</param>
    /// <param name="secretKey">Its UTF-8 bytes key the HMAC.</param>
    /// <param name="lifetime">Seconds until <c>exp</c>; 30 minutes when null.</param>
    /// <param name="time">Clock; the system clock when null.</param>
    public KlingTokenSigner(string accessKey, string secretKey, TimeSpan? lifetime = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKey);
        ArgumentException.ThrowIfNullOrEmpty(secretKey);
        _accessKey = accessKey;
        _secret = Encoding.UTF8.GetBytes(secretKey);
        _lifetime = lifetime ?? TimeSpan.FromMinutes(30);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A freshly signed token, valid from five seconds ago (clock skew) until now plus the lifetime.</summary>
    public string CreateToken()
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Claims(_accessKey, now + (long)_lifetime.TotalSeconds, now - 5), ClaimsContext.Default.Claims);
        var signingInput = new StringBuilder()
            .Append(Encoding.ASCII.GetString(EncodedHeader)).Append('.')
            .Append(Base64Url.EncodeToString(payload)).ToString();
        var signature = HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    internal sealed record Claims(
        [property: System.Text.Json.Serialization.JsonPropertyName("iss")] string Iss,
        [property: System.Text.Json.Serialization.JsonPropertyName("exp")] long Exp,
        [property: System.Text.Json.Serialization.JsonPropertyName("nbf")] long Nbf);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(KlingTokenSigner.Claims))]
internal sealed partial class ClaimsContext : System.Text.Json.Serialization.JsonSerializerContext;
