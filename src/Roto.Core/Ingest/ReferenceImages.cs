using Roto.Core.Data;
using Roto.Media;

namespace Roto.Core.Ingest;

/// <summary>
/// Reads and checks the reference images of a task: jpg/png, at most 10 MB, both sides ≥ 300 px, aspect between
/// 1:2.5 and 2.5:1. The size comes from the header, so an image claiming a huge size is refused unallocated.
/// </summary>
public sealed class ReferenceImages(MediaSource source, Microsoft.Extensions.Options.IOptions<RotoOptions> options)
{
    /// <summary>Beyond this many pixels an image is refused before decoding (a decompression bomb).</summary>
    public const long MaxPixels = 8192L * 8192;

    public async Task<byte[]> LoadAsync(RotoDb db, string field, string value, string accountId, CancellationToken ct)
    {
        var maxBytes = options.Value.Limits.MaxImageBytes;
        byte[] bytes;
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            using var file = await source.FromUrlAsync(db, field, value, accountId, maxBytes, ct);
            bytes = await File.ReadAllBytesAsync(file.Path, ct);
        }
        else
        {
            // Kling wants raw base64; a data: prefix is forgiven rather than refused.
            var raw = value.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && value.IndexOf(',') is var comma and > 0 ? value[(comma + 1)..] : value;
            if (raw.Length > maxBytes * 4 / 3 + 16) throw KlingError.Invalid($"{field} is larger than {maxBytes / (1024 * 1024)} MB");
            try { bytes = Convert.FromBase64String(raw.Trim()); }
            catch (FormatException) { throw KlingError.Invalid($"{field} is neither an http(s) URL nor valid base64"); }
        }
        Check(field, bytes, maxBytes);
        return bytes;
    }

    public static ImageHeader.Info Check(string field, ReadOnlySpan<byte> bytes, long maxBytes)
    {
        if (bytes.Length > maxBytes) throw KlingError.Invalid($"{field} is larger than {maxBytes / (1024 * 1024)} MB");
        var info = ImageHeader.Read(bytes) ?? throw KlingError.Invalid($"{field} is not a jpg or png image");
        if ((long)info.Width * info.Height > MaxPixels || info.Width <= 0 || info.Height <= 0)
            throw KlingError.Invalid($"{field} claims {info.Width}×{info.Height} pixels, more than Roto decodes");
        if (info.Width < 300 || info.Height < 300)
            throw KlingError.Invalid($"{field} is {info.Width}×{info.Height}; width and height must be at least 300 px");
        var aspect = (double)info.Width / info.Height;
        if (aspect < 1 / 2.5 || aspect > 2.5)
            throw KlingError.Invalid($"{field} has an aspect ratio of {aspect:0.##}; it must be between 1:2.5 and 2.5:1");
        return info;
    }
}
