namespace Roto.Media;

/// <summary>Where ffmpeg and ffprobe live and how long one run of each may take.</summary>
public sealed record MediaTools
{
    public string FfmpegPath { get; init; } = "ffmpeg";
    public string FfprobePath { get; init; } = "ffprobe";
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan TranscodeTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// How long a frame pipe may deliver nothing before its ffmpeg counts as hung and is killed. Only the time spent
    /// waiting for ffmpeg counts, never the time the reader's caller spends on a frame.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>x264 preset for everything Roto encodes; veryfast keeps synchronous calls inside client timeouts.</summary>
    public string X264Preset { get; init; } = "veryfast";
    public int X264Crf { get; init; } = 18;
    /// <summary>Threads each ffmpeg process may use; 0 lets ffmpeg choose.</summary>
    public int Threads { get; init; }
    /// <summary>Whether one-frame reads (a click's frame) decode with OpenCV's FFmpeg in process before trying an ffmpeg process.</summary>
    public bool InProcessFrames { get; init; } = true;
}

/// <summary>A media file could not be read, probed or written; the message is for people.</summary>
public class MediaException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How an external media tool failed, as opposed to the file it was given being bad.</summary>
public enum ToolFailure
{
    /// <summary>The program could not be started (missing, not executable).</summary>
    NotStarted,
    /// <summary>A run did not finish within its deadline and was killed.</summary>
    TimedOut,
    /// <summary>A frame pipe delivered nothing for <see cref="MediaTools.StallTimeout"/> and was killed.</summary>
    Stalled,
    /// <summary>The program was ended by a signal (crashed, or killed from outside).</summary>
    Crashed,
}

/// <summary>
/// ffmpeg or ffprobe itself failed (hung, crashed, missing): the server's fault, not the file's. Still a
/// <see cref="MediaException"/> so a task that meets it fails with this message as its reason.
/// </summary>
public sealed class MediaToolException(string tool, ToolFailure failure, string message, Exception? inner = null) : MediaException(message, inner)
{
    public string Tool { get; } = tool;
    public ToolFailure Failure { get; } = failure;

    public static MediaToolException Crashed(string tool, int signal, string doing) =>
        new(tool, ToolFailure.Crashed, $"{tool} was killed by signal {signal} while {doing}");
}
