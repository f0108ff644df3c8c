namespace Roto.Client;

/// <summary>
/// Parses COCO compressed-RLE count strings. Kept here (a dozen lines) so the client package depends on
/// nothing of Roto's server side; the format is fixed by the wire contract §5.
/// </summary>
internal static class CocoRuns
{
    public static IReadOnlyList<int> Parse(string counts)
    {
        var runs = new List<int>();
        var p = 0;
        while (p < counts.Length)
        {
            int x = 0, k = 0, c;
            bool more;
            do
            {
                c = counts[p++] - 48;
                x |= (c & 0x1F) << (5 * k++);
                more = (c & 0x20) != 0;
                if (!more && (c & 0x10) != 0) x |= -1 << (5 * k);
            } while (more && p < counts.Length);
            if (runs.Count > 2) x += runs[^2];
            runs.Add(x);
        }
        return runs;
    }
}
