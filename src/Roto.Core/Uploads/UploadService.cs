using System.Buffers;
using Microsoft.Extensions.Options;
using Roto.Core.Data;
using Roto.Core.Storage;

namespace Roto.Core.Uploads;

/// <summary>An upload as stored: the id and key it was given and what its bytes turned out to be.</summary>
public sealed record UploadedFile(string UploadId, string Key, long Size, string ContentType, long ExpiresAt);

/// <summary>
/// Stores an uploaded file whose URL can be used as video_url or in image_list: received into a scratch file under the
/// size limit, labelled by <see cref="UploadRules"/>, then recorded and put in place whole.
/// </summary>
public sealed class UploadService(RotoDb db, FileStore files, IFileStore store, IOptions<RotoOptions> options)
{
    private const int CopyBufferBytes = 81920;

    /// <summary>
    /// Stores <paramref name="content"/> for <paramref name="accountId"/>. The sender's file name and content type are not
    /// asked for: the bytes decide both the type and the extension. <paramref name="declaredLength"/> (the request's
    /// length, when known) lets a disk that cannot take it refuse before a byte is read.
    /// </summary>
    public async Task<UploadedFile> StoreAsync(string accountId, Stream content, long? declaredLength, CancellationToken ct)
    {
        store.EnsureFreeSpace(declaredLength ?? 0);
        var temp = store.TempPath(".part");
        var head = ArrayPool<byte>.Shared.Rent(UploadRules.HeadBytes);
        try
        {
            var (length, headLength) = await ReceiveAsync(content, temp, head, ct);
            if (length == 0) throw KlingError.Invalid("file is empty");
            var kind = UploadRules.Classify(head.AsSpan(0, headLength));

            var uploadId = Ids.New();
            var key = FileStore.NewKey("upload", uploadId, kind.Extension);
            var record = await files.AdoptAsync(db, temp, key, accountId, "upload", uploadId, kind.ContentType, options.Value.UploadLifetime, ct);
            return new UploadedFile(uploadId, key, record.Size, kind.ContentType, record.ExpiresAt);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
            TempFiles.TryDelete(temp);
        }
    }

    /// <summary>
    /// Copies <paramref name="content"/> to <paramref name="target"/>, refusing more than Limits.MaxUploadBytes, and keeps
    /// its first bytes in <paramref name="head"/> so the rules need not read the file again.
    /// </summary>
    private async Task<(long Length, int HeadLength)> ReceiveAsync(Stream content, string target, byte[] head, CancellationToken ct)
    {
        var maxBytes = options.Value.Limits.MaxUploadBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            await using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, CopyBufferBytes, FileOptions.Asynchronous);
            long total = 0;
            var headLength = 0;
            int n;
            while ((n = await content.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), ct)) > 0)
            {
                total += n;
                if (total > maxBytes) throw KlingError.Invalid($"file is larger than {maxBytes / (1024 * 1024)} MB");
                var toHead = Math.Min(n, UploadRules.HeadBytes - headLength);
                buffer.AsSpan(0, toHead).CopyTo(head.AsSpan(headLength));
                headLength += toHead;
                await output.WriteAsync(buffer.AsMemory(0, n), ct);
            }
            return (total, headLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
