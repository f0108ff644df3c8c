using Roto.Core.Ingest;
using Roto.Media;

namespace Roto.Core.Uploads;

/// <summary>What an upload may be: a video container or an image, told by its bytes, never by its name or declared type.</summary>
public static class UploadRules
{
    /// <summary>How much of the start of a file <see cref="Classify"/> needs to see.</summary>
    public const int HeadBytes = 64 * 1024;

    /// <summary>
    /// The kind of file <paramref name="head"/> starts, or 400/1201 naming what it is instead: a text file named clip.mp4
    /// is text. An image that claims more pixels than Roto decodes is refused now, before anyone decodes it.
    /// </summary>
    public static FileSniffer.Kind Classify(ReadOnlySpan<byte> head)
    {
        var kind = FileSniffer.Sniff(head) ?? throw KlingError.Invalid($"file is {FileSniffer.Describe(head)}, not {FileSniffer.Accepted}");
        if (ImageHeader.Read(head) is { } image
            && ((long)image.Width * image.Height > ReferenceImages.MaxPixels || image.Width <= 0 || image.Height <= 0))
            throw KlingError.Invalid($"file claims {image.Width}×{image.Height} pixels, more than Roto decodes");
        return kind;
    }
}
