using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Core.Storage;

namespace Roto.Server.Auth;

/// <summary>
/// Who is calling. Each API key and each access-key pair is an account of its own. API keys are held only as
/// SHA-256 hashes; secrets stay in configuration.
/// </summary>
public sealed class Accounts
{
    private readonly Dictionary<string, string> _accountByKeyHash = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _secretByAccessKey = new(StringComparer.Ordinal);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(5);

    public Accounts(IOptions<RotoOptions> options, DataDirectory dataDir, ILogger<Accounts> log)
    {
        var keys = options.Value.ApiKeys.Where(k => !string.IsNullOrWhiteSpace(k)).ToList();
        if (keys.Count == 0 && options.Value.AccessKeys.Count == 0)
        {
            GeneratedKey = dataDir.TextSecret("api-key.txt", () => "roto_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
            keys.Add(GeneratedKey);
            log.LogInformation("No API key is configured; using the generated key stored in the data directory (api-key.txt)");
        }
        foreach (var key in keys) _accountByKeyHash[Hash(key)] = "key-" + Hash(key)[..16];
        foreach (var pair in options.Value.AccessKeys.Where(p => p.AccessKey.Length > 0))
            _secretByAccessKey[pair.AccessKey] = Encoding.UTF8.GetBytes(pair.SecretKey);
    }

    /// <summary>The key generated at first start when none is configured (printed by run.sh's server banner).</summary>
    public string? GeneratedKey { get; }

    /// <summary>The account id for an Authorization header, or a Kling auth error (1001–1004).</summary>
    public string Authenticate(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization) || authorization.Trim().Equals("Bearer", StringComparison.OrdinalIgnoreCase)) throw new KlingError(KlingCodes.AuthMissing, "Authorization is empty");
        const string bearer = "Bearer ";
        if (!authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            throw new KlingError(KlingCodes.AuthInvalid, "Authorization must be \"Bearer <token>\"");
        var token = authorization[bearer.Length..].Trim();
        if (token.Length == 0) throw new KlingError(KlingCodes.AuthMissing, "Authorization is empty");
        if (token.Count(c => c == '.') == 2) return AuthenticateJwt(token);
        return _accountByKeyHash.TryGetValue(Hash(token), out var account)
            ? account
            : throw new KlingError(KlingCodes.AuthInvalid, "Authorization is invalid: unknown API key");
    }

    /// <summary>
    /// Verifies a Kling HS256 JWT by hand: Kling accepts secrets of any length, while IdentityModel refuses HMAC keys
    /// shorter than 256 bits, and the checks needed are few (alg, signature, iss, nbf, exp).
    /// </summary>
    private string AuthenticateJwt(string token)
    {
        var parts = token.Split('.');
        JsonElement header, payload;
        try
        {
            header = JsonDocument.Parse(Base64Url(parts[0])).RootElement;
            payload = JsonDocument.Parse(Base64Url(parts[1])).RootElement;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KlingError(KlingCodes.AuthInvalid, "Authorization is invalid: the token is not a JWT");
        }
        if (!header.TryGetProperty("alg", out var alg) || alg.GetString() != "HS256")
            throw new KlingError(KlingCodes.AuthInvalid, "Authorization is invalid: the token must be signed with HS256");
        if (!payload.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String || !_secretByAccessKey.TryGetValue(iss.GetString()!, out var secret))
            throw new KlingError(KlingCodes.AuthInvalid, "Authorization is invalid: unknown access key");

        var expected = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
        byte[] given;
        try { given = Base64Url(parts[2]); }
        catch (FormatException) { throw new KlingError(KlingCodes.AuthInvalid, "Authorization is invalid: bad signature"); }
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
            throw new KlingError(KlingCodes.AuthInvalid, "Authorization is invalid: bad signature");

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (NumericClaim(payload, "nbf") is { } nbf && now + Skew.TotalSeconds < nbf)
            throw new KlingError(KlingCodes.AuthNotYetValid, "Authorization is not yet valid (nbf is in the future)");
        if (NumericClaim(payload, "exp") is { } exp && now - Skew.TotalSeconds >= exp)
            throw new KlingError(KlingCodes.AuthExpired, "Authorization has expired (exp has passed)");
        return "ak-" + iss.GetString();
    }

    private static double? NumericClaim(JsonElement payload, string name)
    {
        if (!payload.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        throw new KlingError(KlingCodes.AuthInvalid, $"Authorization is invalid: {name} must be a number");
    }

    private static byte[] Base64Url(string s)
    {
        var padded = s.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => throw new FormatException() };
        return Convert.FromBase64String(padded);
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
