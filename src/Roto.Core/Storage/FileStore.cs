using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Roto.Core.Data;

namespace Roto.Core.Storage;

/// <summary>
/// The files Roto hands out: each recorded with its owner and expiry, its bytes in the <see cref="IFileStore"/>, and
/// served behind signed, expiring URLs: /files/{key}?exp={unix seconds}&amp;sig={HMAC-SHA256(key|exp)}.
/// </summary>
public sealed class FileStore
{
    public const string UrlPrefix = "/files/";
    private readonly byte[] _signingKey;
    private readonly IFileStore _bytes;

    public FileStore(IOptions<RotoOptions> options, DataDirectory dataDir, IFileStore bytes)
    {
        _bytes = bytes;
        // Every process that serves file URLs must sign with the same key: configured, or the one in the shared data directory.
        _signingKey = string.IsNullOrWhiteSpace(options.Value.UrlSigningKey)
            ? dataDir.Secret("url-signing.key", 32)
            : Convert.FromBase64String(options.Value.UrlSigningKey.Trim());
    }

    /// <summary>A new key under a kind folder: kind/yyyyMMdd/id.ext.</summary>
    public static string NewKey(string kind, string id, string extension) =>
        $"{kind}/{DateTime.UtcNow:yyyyMMdd}/{id}{extension}";

    /// <summary>The store's <see cref="IFileStore.PathOf"/>, for callers that hold only this.</summary>
    public string PathOf(string key) => _bytes.PathOf(key);

    /// <summary>The store's <see cref="IFileStore.TempPath"/>, for callers that hold only this.</summary>
    public string TempPath(string extension) => _bytes.TempPath(extension);

    /// <summary>
    /// Records a finished file with its owner, then moves it into storage. The record comes first so that a file never
    /// stands at its key unrecorded: the sweeper reads the records after it has seen a file on disk, and a move keeps
    /// the file's old modification time, so the orphan grace period cannot cover a record saved late.
    /// </summary>
    public async Task<StoredFileRecord> AdoptAsync(RotoDb db, string tempPath, string key, string accountId, string kind, string ownerId,
        string contentType, TimeSpan lifetime, CancellationToken ct)
    {
        _bytes.PathOf(key); // refuses a bad key before anything is recorded
        var now = Ids.NowMs();
        var record = await db.Files.FindAsync([key], ct);
        var added = record == null;
        if (record == null)
        {
            record = new StoredFileRecord { Key = key };
            db.Files.Add(record);
        }
        record.AccountId = accountId;
        record.Kind = kind;
        record.OwnerId = ownerId;
        record.ContentType = contentType;
        record.Size = new FileInfo(tempPath).Length;
        record.CreatedAt = now;
        record.ExpiresAt = now + (long)lifetime.TotalMilliseconds;
        // The record first, then the file: a sweeper (perhaps in another process) takes a file without a record for an
        // orphan once it is older than Roto:OrphanFileAge, and a move keeps the file's old time. A process that dies in
        // between leaves a record without a file, which its owner's expiry or the ownerless sweep removes.
        await db.SaveChangesAsync(ct);
        try
        {
            await _bytes.CommitAsync(tempPath, key, ct);
        }
        catch when (added)
        {
            db.Files.Remove(record);
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        return record;
    }

    public async Task DeleteOwnedByAsync(RotoDb db, string ownerId, CancellationToken ct)
    {
        var files = await db.Files.Where(f => f.OwnerId == ownerId).ToListAsync(ct);
        foreach (var f in files) _bytes.Delete(f.Key);
        db.Files.RemoveRange(files);
        await db.SaveChangesAsync(ct);
    }

    public string SignedPath(string key, DateTimeOffset expires)
    {
        var exp = expires.ToUnixTimeSeconds();
        return $"{UrlPrefix}{key}?exp={exp}&sig={Sign(key, exp)}";
    }

    /// <summary>Checks a signature in constant time and that it has not expired.</summary>
    public bool Verify(string key, string? exp, string? sig)
    {
        if (!long.TryParse(exp, out var expSeconds) || string.IsNullOrEmpty(sig)) return false;
        if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() > expSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(key, expSeconds));
        var given = Encoding.ASCII.GetBytes(sig);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>The storage key of one of our own file URLs (any host), or null when the URL is not one.</summary>
    public static string? KeyOfOwnUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")) return null;
        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        return path.StartsWith(UrlPrefix, StringComparison.Ordinal) ? path[UrlPrefix.Length..] : null;
    }

    private string Sign(string key, long exp)
    {
        var mac = HMACSHA256.HashData(_signingKey, Encoding.UTF8.GetBytes($"{key}|{exp}"));
        return Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }
}
