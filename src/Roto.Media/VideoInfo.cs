namespace Roto.Media;

/// <summary>A frame rate as an exact fraction (30000/1001 for 29.97).</summary>
public readonly record struct FrameRate(int Num, int Den)
{
    public double Value => Den == 0 ? 0 : (double)Num / Den;
    public override string ToString() => $"{Num}/{Den}";

    public static FrameRate Parse(string? s)
    {
        if (string.IsNullOrEmpty(s)) return default;
        var parts = s.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out var n) && int.TryParse(parts[1], out var d)) return new FrameRate(n, d);
        if (double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v)) return new FrameRate((int)Math.Round(v * 1000), 1000);
        return default;
    }
}

/// <summary>What ffprobe says about a video file.</summary>
public sealed record VideoInfo
{
    public required string FormatName { get; init; }
    public required double DurationSeconds { get; init; }
    public required string VideoCodec { get; init; }
    public string? Profile { get; init; }
    public required string PixelFormat { get; init; }
    /// <summary>Coded width and height, before rotation.</summary>
    public required int CodedWidth { get; init; }
    public required int CodedHeight { get; init; }
    /// <summary>Rotation in degrees from the display matrix or the rotate tag (0, 90, 180, 270).</summary>
    public int Rotation { get; init; }
    public required FrameRate RFrameRate { get; init; }
    public required FrameRate AvgFrameRate { get; init; }
    public long? FrameCount { get; init; }
    public string? FieldOrder { get; init; }
    /// <summary>The YUV matrix ffprobe names (bt709, smpte170m, …); null when the stream does not say.</summary>
    public string? ColourSpace { get; init; }
    /// <summary>tv (limited) or pc (full); null when the stream does not say.</summary>
    public string? ColourRange { get; init; }
    public bool HasAudio { get; init; }
    public string? AudioCodec { get; init; }

    /// <summary>Width as displayed, rotation applied.</summary>
    public int Width => Rotation % 180 == 0 ? CodedWidth : CodedHeight;
    public int Height => Rotation % 180 == 0 ? CodedHeight : CodedWidth;

    public bool IsInterlaced => FieldOrder is { } f && f != "progressive" && f != "unknown";

    /// <summary>The rate to play at: the average when it is known, else the nominal one.</summary>
    public FrameRate Fps => AvgFrameRate.Num > 0 && AvgFrameRate.Den > 0 ? AvgFrameRate : RFrameRate;
}
