using System.Globalization;
using System.Text.Json;

namespace Roto.Media;

/// <summary>Reads facts about media files with ffprobe, never decoding more than it must.</summary>
public sealed class Ffprobe(MediaTools tools)
{
    public async Task<VideoInfo> ProbeAsync(string path, CancellationToken ct = default)
    {
        if (new FileInfo(path) is { Exists: true, Length: 0 }) throw new MediaException("the file is empty (0 bytes)");
        var result = await ProcessRunner.RunAsync(tools.FfprobePath,
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path], tools.ProbeTimeout, ct);
        ThrowIfCrashed(result, "reading the file");
        if (result.ExitCode != 0)
            throw new MediaException($"the file is not a readable video ({MediaMessages.Detail(result.StdErr, path)})");
        return Parse(result.StdOut);
    }

    private void ThrowIfCrashed(ProcessRunner.Result result, string doing)
    {
        if (result.Signal is { } signal) throw MediaToolException.Crashed(Path.GetFileName(tools.FfprobePath), signal, doing);
    }

    /// <summary>Parses ffprobe's JSON (-show_format -show_streams).</summary>
    public static VideoInfo Parse(string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException) { throw new MediaException("the file is not a readable video (no probe data)"); }
        using var _ = doc;
        var root = doc.RootElement;
        if (!root.TryGetProperty("streams", out var streams) || streams.ValueKind != JsonValueKind.Array)
            throw new MediaException("the file has no streams");

        JsonElement? video = null, audio = null;
        foreach (var s in streams.EnumerateArray())
        {
            var type = Str(s, "codec_type");
            var attachedPic = s.TryGetProperty("disposition", out var disp) && disp.TryGetProperty("attached_pic", out var ap) && ap.GetInt32() == 1;
            if (type == "video" && video == null && !attachedPic) video = s;
            if (type == "audio" && audio == null) audio = s;
        }
        if (video is not { } v)
            throw new MediaException(audio != null ? "the file holds only audio; a video stream is needed" : "the file has no video stream");

        var format = root.TryGetProperty("format", out var f) ? f : default;
        // A still image (png_pipe, jpeg_pipe, image2…) reads as a one-frame "video"; say what it really is.
        if (format.ValueKind == JsonValueKind.Object && Str(format, "format_name") is { } formatName
            && (formatName.EndsWith("_pipe", StringComparison.Ordinal) || formatName == "image2"))
            throw new MediaException($"the file is a {Str(v, "codec_name") ?? "still"} image, not a video");
        var duration = Num(format, "duration") ?? Num(v, "duration") ?? 0;
        long? frames = long.TryParse(Str(v, "nb_frames"), out var nf) ? nf : null;

        return new VideoInfo
        {
            FormatName = format.ValueKind == JsonValueKind.Object ? Str(format, "format_name") ?? "" : "",
            DurationSeconds = duration,
            VideoCodec = Str(v, "codec_name") ?? "unknown",
            Profile = Str(v, "profile"),
            PixelFormat = Str(v, "pix_fmt") ?? "unknown",
            CodedWidth = v.TryGetProperty("width", out var w) ? w.GetInt32() : 0,
            CodedHeight = v.TryGetProperty("height", out var h) ? h.GetInt32() : 0,
            Rotation = ReadRotation(v),
            RFrameRate = FrameRate.Parse(Str(v, "r_frame_rate")),
            AvgFrameRate = FrameRate.Parse(Str(v, "avg_frame_rate")),
            FrameCount = frames,
            FieldOrder = Str(v, "field_order"),
            ColourSpace = Str(v, "color_space"),
            ColourRange = Str(v, "color_range"),
            HasAudio = audio != null,
            AudioCodec = audio is { } a ? Str(a, "codec_name") : null,
        };
    }

    /// <summary>Counts the video packets (one per frame in mp4) without decoding.</summary>
    public async Task<long> CountFramesAsync(string path, CancellationToken ct = default)
    {
        var result = await ProcessRunner.RunAsync(tools.FfprobePath,
            ["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path],
            tools.ProbeTimeout, ct);
        ThrowIfCrashed(result, "counting frames");
        if (result.ExitCode != 0 || !long.TryParse(result.StdOut.Trim().TrimEnd(','), out var n))
            throw new MediaException($"could not count the frames of the video ({MediaMessages.Detail(result.StdErr, path)})");
        return n;
    }

    /// <summary>True when every video packet lasts one frame of the nominal rate: the stream is constant-frame-rate.</summary>
    public async Task<bool> IsConstantFrameRateAsync(string path, FrameRate rate, CancellationToken ct = default)
    {
        var result = await ProcessRunner.RunAsync(tools.FfprobePath,
            ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path],
            tools.ProbeTimeout, ct);
        ThrowIfCrashed(result, "reading frame times");
        if (result.ExitCode != 0 || rate.Value <= 0) return false;
        var times = new List<double>();
        foreach (var line in result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (double.TryParse(line.Trim().TrimEnd(','), CultureInfo.InvariantCulture, out var t)) times.Add(t);
        times.Sort();
        var step = 1 / rate.Value;
        for (var i = 1; i < times.Count; i++)
            if (Math.Abs(times[i] - times[i - 1] - step) > step * 0.25) return false;
        return times.Count > 0;
    }

    private static int ReadRotation(JsonElement v)
    {
        double rotation = 0;
        if (v.TryGetProperty("side_data_list", out var sides) && sides.ValueKind == JsonValueKind.Array)
            foreach (var sd in sides.EnumerateArray())
                if (Num(sd, "rotation") is { } r) rotation = r;
        if (rotation == 0 && v.TryGetProperty("tags", out var tags) && Num(tags, "rotate") is { } tag) rotation = tag;
        var normalized = ((int)Math.Round(rotation) % 360 + 360) % 360;
        return normalized;
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p)
            ? p.ValueKind == JsonValueKind.String ? p.GetString() : p.ToString()
            : null;

    private static double? Num(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var p)) return null;
        if (p.ValueKind == JsonValueKind.Number) return p.GetDouble();
        return double.TryParse(p.GetString(), CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    internal static string FirstLine(string s) => MediaMessages.Detail(s);
}
