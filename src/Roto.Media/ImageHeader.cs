using System.Buffers.Binary;

namespace Roto.Media;

/// <summary>
/// Reads an image's format and pixel size from its header alone, so an image that claims a huge size
/// (a decompression bomb) is refused before any pixel buffer is allocated.
/// </summary>
public static class ImageHeader
{
    public sealed record Info(string Format, int Width, int Height, bool HasAlpha);

    public static Info? Read(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 26 && data[..8].SequenceEqual((byte[])[137, 80, 78, 71, 13, 10, 26, 10]) && data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            var colourType = data[25];
            return new Info("png", BinaryPrimitives.ReadInt32BigEndian(data[16..]), BinaryPrimitives.ReadInt32BigEndian(data[20..]),
                colourType is 4 or 6 || HasTransparencyChunk(data));
        }
        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0xD8) return ReadJpeg(data);
        return null;
    }

    private static bool HasTransparencyChunk(ReadOnlySpan<byte> data) => data.IndexOf("tRNS"u8) >= 0;

    private static Info? ReadJpeg(ReadOnlySpan<byte> data)
    {
        var pos = 2;
        while (pos + 4 <= data.Length)
        {
            if (data[pos] != 0xFF) return null;
            var marker = data[pos + 1];
            if (marker == 0xFF) { pos++; continue; }
            if (marker is 0xD8 or 0x01 || marker is >= 0xD0 and <= 0xD7) { pos += 2; continue; }
            var len = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 2)..]);
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
            if (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC))
            {
                if (pos + 9 > data.Length) return null;
                var h = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 5)..]);
                var w = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 7)..]);
                return new Info("jpeg", w, h, false);
            }
            pos += 2 + len;
        }
        return null;
    }
}
