using System.Buffers.Binary;
using System.IO.Compression;

namespace Roto.Masks;

/// <summary>
/// The <c>png_mask</c> codec: an 8-bit greyscale PNG, 255 = selected, 0 = not.
/// Written by hand so the Masks layer stays free of image libraries: the format needed here is
/// one chunk layout with zlib, which the base library already provides.
/// </summary>
public static class MaskPng
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static byte[] Encode(BinaryMask mask)
    {
        int w = mask.Width, h = mask.Height;
        var raw = new byte[h * (w + 1)];
        for (var y = 0; y < h; y++)
        {
            var row = y * (w + 1);
            raw[row] = 0; // filter: none; runs of 0/255 compress well without prediction
            for (var x = 0; x < w; x++) raw[row + 1 + x] = mask.Pixels[y * w + x] != 0 ? (byte)255 : (byte)0;
        }

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);

        using var png = new MemoryStream();
        png.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 0; // colour type: greyscale
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", idat.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Decodes an 8-bit greyscale PNG (as <see cref="Encode"/> writes); non-zero = selected.</summary>
    public static BinaryMask Decode(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature)) throw new FormatException("not a PNG");
        var pos = 8;
        int w = 0, h = 0;
        using var idat = new MemoryStream();
        while (pos + 8 <= png.Length)
        {
            var len = BinaryPrimitives.ReadInt32BigEndian(png[pos..]);
            var type = System.Text.Encoding.ASCII.GetString(png.Slice(pos + 4, 4));
            if (len < 0 || pos + 12 + len > png.Length) throw new FormatException("truncated PNG chunk");
            var data = png.Slice(pos + 8, len);
            switch (type)
            {
                case "IHDR":
                    w = BinaryPrimitives.ReadInt32BigEndian(data);
                    h = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    if (data[8] != 8 || data[9] != 0 || data[12] != 0)
                        throw new FormatException("only 8-bit greyscale, non-interlaced PNG masks are supported");
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
            }
            pos += 12 + len;
            if (type == "IEND") break;
        }
        if (w <= 0 || h <= 0) throw new FormatException("PNG has no IHDR");

        idat.Position = 0;
        var raw = new byte[h * (w + 1)];
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.ReadExactly(raw);

        var mask = new BinaryMask(w, h);
        var prev = new byte[w];
        var cur = new byte[w];
        for (var y = 0; y < h; y++)
        {
            var filter = raw[y * (w + 1)];
            raw.AsSpan(y * (w + 1) + 1, w).CopyTo(cur);
            Unfilter(filter, cur, prev);
            for (var x = 0; x < w; x++) mask.Pixels[y * w + x] = cur[x] != 0 ? (byte)1 : (byte)0;
            (prev, cur) = (cur, prev);
        }
        return mask;
    }

    private static void Unfilter(byte filter, byte[] cur, byte[] prev)
    {
        for (var x = 0; x < cur.Length; x++)
        {
            int a = x > 0 ? cur[x - 1] : 0, b = prev[x], c = x > 0 ? prev[x - 1] : 0;
            cur[x] = filter switch
            {
                0 => cur[x],
                1 => (byte)(cur[x] + a),
                2 => (byte)(cur[x] + b),
                3 => (byte)(cur[x] + (a + b) / 2),
                4 => (byte)(cur[x] + Paeth(a, b, c)),
                _ => throw new FormatException($"unknown PNG filter {filter}"),
            };
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        s.Write(crcBytes);
    }

    // PNG's CRC-32 (ISO 3309); kept here so the Masks layer needs no package.
    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
