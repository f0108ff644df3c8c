using System.Text.RegularExpressions;

namespace Roto.Media;

/// <summary>
/// Turns a tool's stderr into one line a person can read: without ffmpeg's "[mov,mp4 @ 0x55…]" context prefixes
/// and without the server's file paths, which are nobody's business outside the server.
/// </summary>
public static partial class MediaMessages
{
    public const int MaxLength = 200;

    public static string Detail(string stderr, string? inputPath = null)
    {
        foreach (var raw in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var line = ContextPrefix().Replace(raw, "");
            if (inputPath != null)
            {
                // "/data/files/upload/…/123.bin: Invalid data found…" says nothing more without its path.
                if (line.StartsWith(inputPath + ": ", StringComparison.Ordinal)) line = line[(inputPath.Length + 2)..];
                line = line.Replace(inputPath, "the file", StringComparison.Ordinal);
            }
            line = PathPrefix().Replace(line, "");
            line = AbsolutePath().Replace(line, "the file").Trim();
            if (line.Length == 0) continue;
            return line.Length > MaxLength ? line[..MaxLength] : line;
        }
        return "no detail";
    }

    [GeneratedRegex(@"^(\[[^\]]*@ ?0x[0-9a-fA-F]+\]\s*)+")]
    private static partial Regex ContextPrefix();

    [GeneratedRegex(@"^/(?:[^\s/:]+/)+[^\s/:]*: ")]
    private static partial Regex PathPrefix();

    [GeneratedRegex(@"(?<![\w.])/(?:[^\s/:]+/)+[^\s/:]*")]
    private static partial Regex AbsolutePath();
}
