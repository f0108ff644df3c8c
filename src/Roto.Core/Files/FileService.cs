using Microsoft.EntityFrameworkCore;
using Roto.Core.Data;
using Roto.Core.Storage;

namespace Roto.Core.Files;

/// <summary>A stored file to send: its bytes (the caller disposes them), its type, and when it was written.</summary>
public sealed record FileContent(Stream Content, string ContentType, DateTimeOffset LastModified);

/// <summary>The files behind Roto's signed, expiring URLs (see <see cref="FileStore.SignedPath"/>).</summary>
public sealed class FileService(RotoDb db, FileStore files, IFileStore store)
{
    /// <summary>
    /// The file that <paramref name="key"/> names, open for reading, when <paramref name="sig"/> signs it until
    /// <paramref name="exp"/>. A bad or expired signature, a key outside the store, and a file that is gone all answer
    /// 404/1203 alike, so a link tells nobody which one it was.
    /// </summary>
    public async Task<FileContent> OpenAsync(string key, string? exp, string? sig, CancellationToken ct)
    {
        if (!files.Verify(key, exp, sig)) throw Gone();
        var stored = store.OpenRead(key) ?? throw Gone();
        try
        {
            var record = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Key == key, ct) ?? throw Gone();
            return new FileContent(stored.Content, record.ContentType, stored.LastModified);
        }
        catch
        {
            await stored.Content.DisposeAsync();
            throw;
        }
    }

    private static KlingError Gone() => KlingError.NotFound("the file does not exist or its link has expired");
}
