using System.Globalization;
using Roto.Client;

namespace Roto.Cli;

/// <summary>
/// Parses <c>x,y</c> points. Coordinates are fractions of the frame's width and height in [0,1], origin top-left,
/// as on the wire. Where the video's size is known (<c>roto remove</c>), a <c>px</c> suffix gives pixels instead:
/// <c>640,360px</c>.
/// </summary>
public static class PointSpec
{
    /// <summary>Parses one point; <paramref name="frameSize"/> converts pixel points (null rejects them).</summary>
    public static SelectionPoint Parse(string text, bool include, (int Width, int Height)? frameSize = null)
    {
        var spec = text.Trim();
        var pixels = spec.EndsWith("px", StringComparison.OrdinalIgnoreCase);
        if (pixels) spec = spec[..^2];
        var parts = spec.Split(',');
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var y))
            throw new CliUsageException($"point '{text}' is not x,y (fractions such as 0.5,0.4)");
        if (pixels)
        {
            if (frameSize is not { } size)
                throw new CliUsageException($"point '{text}': pixel points need the video size; give fractions in [0,1]");
            if (x < 0 || y < 0 || x >= size.Width || y >= size.Height)
                throw new CliUsageException($"point '{text}' lies outside the {size.Width}x{size.Height} frame");
            (x, y) = ((x + 0.5) / size.Width, (y + 0.5) / size.Height);
        }
        else if (x is < 0 or > 1 || y is < 0 or > 1)
            throw new CliUsageException($"point '{text}' is outside [0,1]; coordinates are fractions of the frame (use a px suffix for pixels in 'roto remove')");
        return include ? SelectionPoint.Include(x, y) : SelectionPoint.Exclude(x, y);
    }

    /// <summary>
    /// Checks points before any request: their form, and the range of fraction points. Pixel points can only be
    /// checked against the frame once the video's size is known.
    /// </summary>
    public static void Check(IEnumerable<string>? include, IEnumerable<string>? exclude)
    {
        var all = (include ?? []).Concat(exclude ?? []).ToList();
        foreach (var text in all)
        {
            var pixels = text.Trim().EndsWith("px", StringComparison.OrdinalIgnoreCase);
            Parse(text, true, pixels ? (int.MaxValue, int.MaxValue) : null);
        }
        if (all.Count == 0) throw new CliUsageException("give at least one --point x,y");
        if (all.Count > 10) throw new CliUsageException("at most 10 points per frame");
    }

    /// <summary>Included points followed by excluded ones.</summary>
    public static IReadOnlyList<SelectionPoint> ParseAll(IEnumerable<string>? include, IEnumerable<string>? exclude, (int Width, int Height)? frameSize = null)
    {
        var points = (include ?? []).Select(p => Parse(p, true, frameSize)).Concat((exclude ?? []).Select(p => Parse(p, false, frameSize))).ToList();
        if (points.Count == 0) throw new CliUsageException("give at least one --point x,y");
        if (points.Count > 10) throw new CliUsageException("at most 10 points per frame");
        return points;
    }
}
