namespace Roto.Media;

/// <summary>The constant-frame-rate H.264 mp4 that every later step reads.</summary>
public sealed record NormalizedVideo(string Path, FrameRate Fps, int Width, int Height, int FrameCount, bool HasAudio, bool StreamCopied)
{
    public double DurationSeconds => FrameCount / Fps.Value;
}

/// <summary>
/// Turns any accepted input into a constant-frame-rate H.264 (yuv420p) mp4 with its audio kept.
/// Streams are copied when they already are that, so a conforming upload costs a remux, not an encode.
/// </summary>
public sealed class VideoNormalizer(MediaTools tools, Ffprobe probe)
{
    public async Task<NormalizedVideo> NormalizeAsync(string input, VideoInfo info, FrameRate target, string output, CancellationToken ct = default)
    {
        var copy = await CanCopyAsync(input, info, target, ct);
        var result = await RunAsync(input, info, target, output, copy, ct);
        if (copy && (result.ExitCode != 0 || result.StdErr.Trim().Length > 0))
        {
            // The demuxer or parser complained while copying (garbage inside, cut short): the copied stream would hold
            // packets that do not decode to frames, so the frame count would lie. Decoding conceals the damage and
            // re-encoding gives a clean stream whose every packet is a frame.
            copy = false;
            result = await RunAsync(input, info, target, output, copy, ct);
        }
        if (result.Signal is { } signal)
        {
            TryDelete(output);
            throw MediaToolException.Crashed(Path.GetFileName(tools.FfmpegPath), signal, "converting the video");
        }
        if (result.ExitCode != 0)
        {
            TryDelete(output);
            throw new MediaException($"the video could not be converted ({MediaMessages.Detail(result.StdErr, input)})");
        }

        var normalized = await probe.ProbeAsync(output, ct);
        var frames = await probe.CountFramesAsync(output, ct);
        if (frames <= 0)
        {
            TryDelete(output);
            throw new MediaException("the video has no frames that can be decoded");
        }
        return new NormalizedVideo(output, normalized.RFrameRate.Num > 0 ? normalized.RFrameRate : target,
            normalized.Width, normalized.Height, (int)frames, normalized.HasAudio, copy);
    }

    private Task<ProcessRunner.Result> RunAsync(string input, VideoInfo info, FrameRate target, string output, bool copy, CancellationToken ct)
    {
        var args = new List<string> { "-v", "error", "-nostdin", "-y", "-i", input, "-map", "0:v:0", "-map", "0:a:0?", "-dn", "-sn" };
        if (copy)
        {
            args.AddRange(["-c:v", "copy"]);
        }
        else
        {
            var filters = new List<string>();
            if (info.IsInterlaced) filters.Add("yadif");
            filters.Add($"fps={target.Num}/{target.Den}");
            // yuv420p needs even sides: an odd last column or row is cropped off rather than the picture resampled,
            // so every kept pixel stays where it was.
            filters.Add("crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0");
            filters.Add("setsar=1");
            args.AddRange(["-vf", string.Join(',', filters), "-c:v", "libx264", "-preset", tools.X264Preset,
                "-crf", tools.X264Crf.ToString(), "-pix_fmt", "yuv420p", "-profile:v", "high"]);
        }
        if (tools.Threads > 0) args.AddRange(["-threads", tools.Threads.ToString()]);
        args.AddRange(info.AudioCodec is "aac" or "mp3" ? ["-c:a", "copy"] : ["-c:a", "aac", "-b:a", "160k"]);
        args.AddRange(["-movflags", "+faststart", "-f", "mp4", output]);
        return ProcessRunner.RunAsync(tools.FfmpegPath, args, tools.TranscodeTimeout, ct);
    }

    private async Task<bool> CanCopyAsync(string input, VideoInfo info, FrameRate target, CancellationToken ct) =>
        info.VideoCodec == "h264" && info.PixelFormat == "yuv420p" && info.Rotation == 0 && !info.IsInterlaced
        && info.CodedWidth % 2 == 0 && info.CodedHeight % 2 == 0
        && info.RFrameRate == target && info.AvgFrameRate == target
        && await probe.IsConstantFrameRateAsync(input, target, ct);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
