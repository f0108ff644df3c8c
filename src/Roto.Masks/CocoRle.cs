using System.Text;

namespace Roto.Masks;

/// <summary>
/// COCO "compressed RLE" as Kling and pycocotools write it: runs over column-major pixels,
/// starting with a run of zeros, each count delta-coded against the count two back (from the
/// fourth on) and written as 5-bit little-endian groups on ASCII 48+.
/// Hand-written because no .NET package implements this string form.
/// </summary>
public static class CocoRle
{
    /// <summary>Column-major run lengths of a row-major mask, first run counting zeros.</summary>
    public static List<int> RunLengths(BinaryMask mask)
    {
        int h = mask.Height, w = mask.Width;
        var counts = new List<int>();
        var prev = 0;
        var run = 0;
        var px = mask.Pixels;
        for (var x = 0; x < w; x++)
        {
            for (var y = 0; y < h; y++)
            {
                var v = px[y * w + x] != 0 ? 1 : 0;
                if (v != prev)
                {
                    counts.Add(run);
                    run = 0;
                    prev = v;
                }
                run++;
            }
        }
        counts.Add(run);
        return counts;
    }

    public static string Encode(BinaryMask mask) => EncodeCounts(RunLengths(mask));

    /// <summary>Encodes pixels already laid out column-major (e.g. a transposed image plane); non-zero = selected.</summary>
    public static string EncodeColumnMajor(ReadOnlySpan<byte> columnMajor)
    {
        var counts = new List<int>();
        var prev = false;
        var start = 0;
        var i = 0;
        while (i < columnMajor.Length)
        {
            // Jump to the next change of value: IndexOf/IndexOfAnyExcept are vectorised.
            var rest = columnMajor[i..];
            var next = prev ? rest.IndexOf((byte)0) : rest.IndexOfAnyExcept((byte)0);
            if (next < 0) break;
            i += next;
            counts.Add(i - start);
            start = i;
            prev = !prev;
        }
        counts.Add(columnMajor.Length - start);
        return EncodeCounts(counts);
    }

    public static string EncodeCounts(IReadOnlyList<int> counts)
    {
        var sb = new StringBuilder(counts.Count * 2);
        for (var i = 0; i < counts.Count; i++)
        {
            var x = counts[i];
            if (i > 2) x -= counts[i - 2];
            var more = true;
            while (more)
            {
                var c = x & 0x1F;
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                sb.Append((char)(c + 48));
            }
        }
        return sb.ToString();
    }

    public static List<int> ParseCounts(string s)
    {
        var counts = new List<int>();
        var p = 0;
        while (p < s.Length)
        {
            var x = 0;
            var k = 0;
            var more = true;
            while (more)
            {
                if (p >= s.Length) throw new FormatException("RLE counts string ends inside a number");
                var c = s[p] - 48;
                if (c < 0 || c > 63) throw new FormatException($"RLE counts string has an invalid character at {p}");
                if (k > 6) throw new FormatException("RLE count is too long");
                x |= (c & 0x1F) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1 << (5 * k);
            }
            if (counts.Count > 2) x += counts[^2];
            counts.Add(x);
        }
        return counts;
    }

    /// <summary>Decodes a counts string for a mask of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static BinaryMask Decode(int height, int width, string counts)
    {
        var runs = ParseCounts(counts);
        var mask = new BinaryMask(width, height);
        long total = 0;
        foreach (var n in runs)
        {
            if (n < 0) throw new FormatException("RLE has a negative run");
            total += n;
        }
        if (total != (long)width * height)
            throw new FormatException($"RLE covers {total} pixels, the mask has {(long)width * height}");
        var p = 0;
        byte v = 0;
        var px = mask.Pixels;
        foreach (var n in runs)
        {
            if (v == 1)
            {
                for (var i = 0; i < n; i++)
                {
                    var q = p + i;
                    px[(q % height) * width + q / height] = 1;
                }
            }
            p += n;
            v ^= 1;
        }
        return mask;
    }
}
