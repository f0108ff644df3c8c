using System.Globalization;
using Roto.Media;

namespace Roto.Core.Ingest;

/// <summary>
/// Which videos a session accepts. "kling" follows Kling's limits (decision 10), with the half second of slack
/// that gateways document (≤ 5.5 s, ≤ 10.5 s) so real 10 s clips with a trailing frame or two pass. "relaxed"
/// accepts what a self-hosted user reasonably brings.
/// </summary>
public sealed record InputProfile(string Name, bool Mp4OrMovOnly, (double Min, double Max)[] Durations, int MinSide, int MaxSide,
    double[]? AllowedFps, double MinFps, double MaxFps)
{
    public static readonly InputProfile Kling = new("kling", true, [(2, 5.5), (7, 10.5)], 720, 2160, [24, 30, 60], 23, 61);
    public static readonly InputProfile Relaxed = new("relaxed", false, [(0.5, 300)], 64, 4096, null, 1, 120);

    public static InputProfile ByName(string? name) => name?.ToLowerInvariant() switch
    {
        "relaxed" => Relaxed,
        _ => Kling,
    };

    /// <summary>Throws a 1201 naming <paramref name="field"/> and the broken rule when the video does not fit.</summary>
    public void Validate(string field, VideoInfo info)
    {
        if (Mp4OrMovOnly && !info.FormatName.Split(',').Any(f => f is "mp4" or "mov"))
            throw KlingError.Invalid($"{field}: only mp4 and mov videos are supported (got {info.FormatName})");
        var d = info.DurationSeconds;
        if (!Durations.Any(r => d >= r.Min && d <= r.Max))
            throw KlingError.Invalid($"{field}: the video lasts {F(d)} s; supported durations are {string.Join(" or ", Durations.Select(r => $"{F(r.Min)}–{F(r.Max)} s"))}");
        if (info.Width < MinSide || info.Height < MinSide || info.Width > MaxSide || info.Height > MaxSide)
            throw KlingError.Invalid($"{field}: the video is {info.Width}×{info.Height}; width and height must each be between {MinSide} and {MaxSide} px");
        var fps = info.Fps.Value;
        if (fps < MinFps || fps > MaxFps || (AllowedFps != null && TargetFps(info) is null))
            throw KlingError.Invalid($"{field}: the frame rate is {F(fps)} fps; supported: {(AllowedFps != null ? string.Join(", ", AllowedFps) + " fps (23.976, 29.97 and 59.94 count)" : $"{MinFps}–{MaxFps} fps")}");
    }

    /// <summary>The constant rate the normalized video gets: the source's own rate when it is a standard one.</summary>
    public FrameRate? TargetFps(VideoInfo info)
    {
        var fps = info.Fps.Value;
        FrameRate[] standard = [new(24000, 1001), new(24, 1), new(25, 1), new(30000, 1001), new(30, 1), new(50, 1), new(60000, 1001), new(60, 1)];
        var nearest = standard.MinBy(s => Math.Abs(s.Value - fps));
        var snapped = Math.Abs(nearest.Value - fps) < 0.05 ? nearest : (FrameRate?)null;
        if (AllowedFps != null)
            return snapped is { } s && AllowedFps.Any(a => Math.Abs(a - s.Value) < 0.1) ? s : null;
        if (snapped is { } known) return known;
        // Not a standard rate: keep it to the millisecond.
        var num = (int)Math.Round(fps * 1000);
        var gcd = Gcd(num, 1000);
        return new FrameRate(num / gcd, 1000 / gcd);
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
