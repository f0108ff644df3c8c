namespace Roto.Media;

/// <summary>Where ffmpeg and ffprobe live and how long one run of each may take.</summary>
public sealed record MediaTools
{
    public string FfmpegPath { get; init; } = "ffmpeg";
    public string FfprobePath { get; init; } = "ffprobe";
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan TranscodeTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>x264 preset for everything Roto encodes; veryfast keeps synchronous calls inside client timeouts.</summary>
    public string X264Preset { get; init; } = "veryfast";
    public int X264Crf { get; init; } = 18;
    /// <summary>Threads each ffmpeg process may use; 0 lets ffmpeg choose.</summary>
    public int Threads { get; init; }
}

/// <summary>A media file could not be read, probed or written; the message is for people.</summary>
public sealed class MediaException(string message, Exception? inner = null) : Exception(message, inner);
