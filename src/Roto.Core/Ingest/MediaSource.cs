using Microsoft.EntityFrameworkCore;
using Roto.Core.Data;
using Roto.Core.Net;
using Roto.Core.Storage;

namespace Roto.Core.Ingest;

/// <summary>
/// Turns what a request names (our own file URL, a video id, a remote URL, raw base64) into a local file.
/// Our own URLs are read straight from storage and never fetched over the network.
/// </summary>
public sealed class MediaSource(IFileStore store, Downloader downloader, Microsoft.Extensions.Options.IOptions<RotoOptions> options)
{
    /// <summary>A local file to read, and whether it is a temporary copy the caller must delete.</summary>
    public sealed record LocalFile(string Path, bool Temporary) : IDisposable
    {
        public void Dispose()
        {
            if (Temporary) TempFiles.TryDelete(Path);
        }
    }

    public async Task<LocalFile> FromUrlAsync(RotoDb db, string field, string url, string accountId, long maxBytes, CancellationToken ct)
    {
        if (FileStore.KeyOfOwnUrl(url) is { } key && await OwnFileAsync(db, key, accountId, ct) is { } own) return own;
        var limits = options.Value.Limits;
        var temp = store.TempPath(".download");
        await downloader.DownloadAsync(field, url, temp, maxBytes, limits.DownloadTimeout, ct);
        return new LocalFile(temp, true);
    }

    /// <summary>A result video of this account by its <c>videos[].id</c>.</summary>
    public async Task<LocalFile> FromVideoIdAsync(RotoDb db, string videoId, string accountId, CancellationToken ct)
    {
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.ResultVideoId == videoId && t.AccountId == accountId, ct);
        if (task?.ResultKey == null || !store.Exists(task.ResultKey))
            throw KlingError.NotFound($"video_id {videoId} does not exist");
        return new LocalFile(store.PathOf(task.ResultKey), false);
    }

    private async Task<LocalFile?> OwnFileAsync(RotoDb db, string key, string accountId, CancellationToken ct)
    {
        var record = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Key == key, ct);
        if (record == null) return null; // not ours after all: an ordinary remote URL that happens to look alike
        if (record.AccountId != accountId || !store.Exists(key))
            throw KlingError.NotFound("the file URL does not exist");
        return new LocalFile(store.PathOf(key), false);
    }
}
