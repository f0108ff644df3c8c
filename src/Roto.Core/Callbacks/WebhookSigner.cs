using System.Security.Cryptography;
using System.Text;

namespace Roto.Core.Callbacks;

/// <summary>Standard Webhooks signatures: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), key = base64 of the secret after "whsec_".</summary>
public static class WebhookSigner
{
    public static string Sign(string secret, string webhookId, long timestampSeconds, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{webhookId}.{timestampSeconds}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }
}
