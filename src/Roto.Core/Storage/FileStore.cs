using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Roto.Core.Data;

namespace Roto.Core.Storage;

/// <summary>
/// Files under {DataDir}/files, recorded with their owner, and the signed, expiring URLs that serve them.
/// A URL is /files/{key}?exp={unix seconds}&amp;sig={HMAC-SHA256(key|exp)}.
/// </summary>
public sealed class FileStore : IDisposable
{
    public const string UrlPrefix = "/files/";
    private readonly byte[] _signingKey;
    private readonly IOptions<RotoOptions> _options;
    private readonly InstanceTempDirectory _temp;

    public FileStore(IOptions<RotoOptions> options, DataDirectory dataDir)
    {
        _options = options;
        Root = Path.Combine(dataDir.Path, "files");
        Directory.CreateDirectory(Root);
        _temp = InstanceTempDirectory.Claim(TempParent);
        // Every process that serves file URLs must sign with the same key: configured, or the one in the shared data directory.
        _signingKey = string.IsNullOrWhiteSpace(options.Value.UrlSigningKey)
            ? dataDir.Secret("url-signing.key", 32)
            : Convert.FromBase64String(options.Value.UrlSigningKey.Trim());
    }

    public string Root { get; }
    /// <summary>Holds one folder per running process (see <see cref="InstanceTempDirectory"/>).</summary>
    public string TempParent => Path.Combine(Root, "tmp");
    /// <summary>This process's own temporary folder.</summary>
    public string TempRoot => _temp.Path;

    /// <summary>A new key under a kind folder: kind/yyyyMMdd/id.ext.</summary>
    public static string NewKey(string kind, string id, string extension) =>
        $"{kind}/{DateTime.UtcNow:yyyyMMdd}/{id}{extension}";

    /// <summary>The absolute path of a key, refusing any key that would leave the files folder.</summary>
    public string PathOf(string key)
    {
        // A NUL or other control character is never in a key Roto makes, and some file APIs cut or reject at it.
        if (string.IsNullOrEmpty(key) || key.Contains("..") || key.Contains('\\') || key.Any(char.IsControl) || Path.IsPathRooted(key))
            throw KlingError.NotFound("file not found");
        var full = Path.GetFullPath(Path.Combine(Root, key));
        if (!full.StartsWith(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw KlingError.NotFound("file not found");
        return full;
    }

    /// <summary>
    /// A temporary path inside the data directory (same disk, so a final move is atomic). Every new file starts
    /// here, so this is where a disk short of space is noticed: see <see cref="EnsureFreeSpace"/>.
    /// </summary>
    public string TempPath(string extension)
    {
        EnsureFreeSpace();
        return Path.Combine(TempRoot, $"{Guid.NewGuid():N}{extension}");
    }

    /// <summary>
    /// Throws <see cref="InsufficientStorageException"/> when writing <paramref name="bytesToWrite"/> more would leave
    /// less than Limits.MinFreeDiskBytes free on the data directory's disk.
    /// </summary>
    public void EnsureFreeSpace(long bytesToWrite = 0)
    {
        var minimum = _options.Value.Limits.MinFreeDiskBytes;
        if (minimum <= 0) return;
        var free = FreeBytes();
        if (free - bytesToWrite < minimum) throw new InsufficientStorageException(free, minimum, bytesToWrite);
    }

    /// <summary>Bytes this process may still write on the data directory's disk.</summary>
    public long FreeBytes() => new DriveInfo(Root).AvailableFreeSpace;

    /// <summary>
    /// Records a finished file with its owner, then moves it into storage. The record comes first so that a file never
    /// stands at its key unrecorded: the sweeper reads the records after it has seen a file on disk, and a move keeps
    /// the file's old modification time, so the orphan grace period cannot cover a record saved late.
    /// </summary>
    public async Task<StoredFileRecord> AdoptAsync(RotoDb db, string tempPath, string key, string accountId, string kind, string ownerId,
        string contentType, TimeSpan lifetime, CancellationToken ct)
    {
        var path = PathOf(key);
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
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.Move(tempPath, path, overwrite: true);
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
        foreach (var f in files) TryDelete(PathOf(f.Key));
        db.Files.RemoveRange(files);
        await db.SaveChangesAsync(ct);
    }

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
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

    /// <summary>Releases this process's claim on its temporary folder; the next sweep removes what is left in it.</summary>
    public void Dispose() => _temp.Dispose();

    private string Sign(string key, long exp)
    {
        var mac = HMACSHA256.HashData(_signingKey, Encoding.UTF8.GetBytes($"{key}|{exp}"));
        return Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }
}
