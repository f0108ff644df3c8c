using System.Text;

namespace Roto.Media;

/// <summary>
/// Tells a video container or an image format from a file's first bytes, and names what anything else looks like,
/// so that an upload is labelled by what it is rather than by the name its sender gave it.
/// </summary>
public static class FileSniffer
{
    /// <param name="IsVideo">A video container (it may still hold no video stream; ffprobe decides that at init).</param>
    public sealed record Kind(bool IsVideo, string Format, string ContentType, string Extension);

    /// <summary>What the sniffer accepts, for messages.</summary>
    public const string Accepted = "a video (mp4, mov, webm, mkv, avi, ts, mpeg, flv, ogg, wmv) or an image (png, jpeg, webp, gif, bmp)";

    /// <summary>The kind of file <paramref name="head"/> starts, or null when it is neither a video container nor an image.</summary>
    public static Kind? Sniff(ReadOnlySpan<byte> head)
    {
        if (ImageHeader.Read(head) is { } image)
            return image.Format == "png" ? Image("png", "image/png", ".png") : Image("jpeg", "image/jpeg", ".jpg");
        if (At(head, 0, "RIFF"u8) && At(head, 8, "WEBP"u8)) return Image("webp", "image/webp", ".webp");
        if (At(head, 0, "GIF87a"u8) || At(head, 0, "GIF89a"u8)) return Image("gif", "image/gif", ".gif");
        // "BM", then the file size, two reserved words and the pixel offset; the info header that follows is 12 to 124 bytes.
        if (At(head, 0, "BM"u8) && head.Length >= 18 && BitConverter.ToUInt32(head[14..18]) is 12 or 40 or 52 or 56 or 64 or 108 or 124)
            return Image("bmp", "image/bmp", ".bmp");

        if (head.Length >= 12 && At(head, 4, "ftyp"u8))
            return At(head, 8, "qt  "u8) ? Video("mov", "video/quicktime", ".mov") : Video("mp4", "video/mp4", ".mp4");
        // QuickTime files from before the ftyp box start straight with one of these.
        if (head.Length >= 8 && (At(head, 4, "moov"u8) || At(head, 4, "mdat"u8) || At(head, 4, "wide"u8) || At(head, 4, "free"u8) || At(head, 4, "skip"u8)))
            return Video("mov", "video/quicktime", ".mov");
        if (At(head, 0, [0x1A, 0x45, 0xDF, 0xA3]))
            return head[..Math.Min(head.Length, 64)].IndexOf("webm"u8) >= 0
                ? Video("webm", "video/webm", ".webm")
                : Video("mkv", "video/x-matroska", ".mkv");
        if (At(head, 0, "RIFF"u8) && At(head, 8, "AVI "u8)) return Video("avi", "video/x-msvideo", ".avi");
        if (At(head, 0, "FLV"u8)) return Video("flv", "video/x-flv", ".flv");
        if (At(head, 0, "OggS"u8)) return Video("ogg", "video/ogg", ".ogv");
        if (At(head, 0, [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11])) return Video("wmv", "video/x-ms-asf", ".wmv");
        if (At(head, 0, [0x00, 0x00, 0x01, 0xBA])) return Video("mpeg", "video/mpeg", ".mpg");
        // MPEG transport stream: a sync byte every 188 bytes.
        if (head.Length >= 188 * 3 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47) return Video("ts", "video/mp2t", ".ts");
        return null;
    }

    /// <summary>What a file that <see cref="Sniff"/> refused looks like, in words for an error message.</summary>
    public static string Describe(ReadOnlySpan<byte> head)
    {
        if (At(head, 0, "%PDF"u8)) return "a PDF document";
        if (At(head, 0, [0x50, 0x4B, 0x03, 0x04])) return "a ZIP archive (or a document in one)";
        if (At(head, 0, [0x1F, 0x8B])) return "gzip-compressed data";
        if (At(head, 0, "ID3"u8) || (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0)) return "MP3 or AAC audio";
        if (At(head, 0, "fLaC"u8)) return "FLAC audio";
        if (At(head, 0, "RIFF"u8) && At(head, 8, "WAVE"u8)) return "WAV audio";
        if (LooksLikeText(head)) return "text";
        return $"unrecognised data (it starts {Convert.ToHexString(head[..Math.Min(8, head.Length)])})";
    }

    private static bool LooksLikeText(ReadOnlySpan<byte> head)
    {
        var sample = head[..Math.Min(head.Length, 4096)];
        // A UTF-8 character cut at the sample's end is not a reason to call it binary.
        for (var cut = 0; cut < 4 && sample.Length > 0; cut++, sample = sample[..^1])
        {
            try
            {
                var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(sample);
                return !text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t' or '\f'));
            }
            catch (DecoderFallbackException) { }
        }
        return false;
    }

    private static bool At(ReadOnlySpan<byte> data, int offset, ReadOnlySpan<byte> magic) =>
        data.Length >= offset + magic.Length && data.Slice(offset, magic.Length).SequenceEqual(magic);

    private static Kind Image(string format, string type, string ext) => new(false, format, type, ext);
    private static Kind Video(string format, string type, string ext) => new(true, format, type, ext);
}
