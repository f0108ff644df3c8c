using System.Diagnostics;
using OpenCvSharp;

namespace Roto.Media;

/// <summary>
/// Encodes BGR frames to a browser-playable H.264 mp4 (yuv420p, faststart) through an ffmpeg pipe,
/// optionally copying the audio of a source file.
/// </summary>
public sealed class VideoFrameWriter : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly ProcessRunner.TailBuffer _stderr = new(4096);
    private readonly int _frameBytes;
    private readonly string _output;
    private readonly string _tool;
    private readonly TimeSpan _stallTimeout;
    private readonly Timer _watchdog;
    private volatile bool _stalled;
    private bool _finished;

    public VideoFrameWriter(MediaTools tools, string output, int width, int height, FrameRate fps, string? audioFrom = null)
    {
        Width = width;
        Height = height;
        _output = output;
        _frameBytes = width * height * 3;
        var args = new List<string> { "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", $"{width}x{height}",
            "-framerate", fps.ToString(), "-i", "-" };
        if (audioFrom != null) args.AddRange(["-i", audioFrom, "-map", "0:v:0", "-map", "1:a:0?", "-c:a", "copy"]);
        args.AddRange(["-c:v", "libx264", "-preset", tools.X264Preset, "-crf", tools.X264Crf.ToString(), "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-movflags", "+faststart"]);
        if (tools.Threads > 0) args.AddRange(["-threads", tools.Threads.ToString()]);
        args.AddRange(["-f", "mp4", output]);
        _process = new Process { StartInfo = ProcessRunner.StartInfo(tools.FfmpegPath, args, redirectStdin: true) };
        _tool = Path.GetFileName(tools.FfmpegPath);
        _stallTimeout = tools.StallTimeout;
        // A hung ffmpeg would block Write (once the pipe is full) or FinishAsync forever; killing it ends both.
        _watchdog = new Timer(_ =>
        {
            _stalled = true;
            ProcessRunner.Kill(_process);
        });
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) _stderr.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, _) => { };
        try
        {
            _process.Start();
        }
        catch (Exception ex)
        {
            _watchdog.Dispose();
            throw new MediaToolException(_tool, ToolFailure.NotStarted, $"could not start {_tool}: {ex.Message}", ex);
        }
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        _stdin = _process.StandardInput.BaseStream;
    }

    public int Width { get; }
    public int Height { get; }
    public int FramesWritten { get; private set; }

    public unsafe void Write(Mat frame)
    {
        if (frame.Width != Width || frame.Height != Height || frame.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"frame must be {Width}x{Height} BGR");
        _watchdog.Change(_stallTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            if (frame.IsContinuous())
            {
                _stdin.Write(new ReadOnlySpan<byte>((void*)frame.Data, _frameBytes));
            }
            else
            {
                using var copy = frame.Clone();
                _stdin.Write(new ReadOnlySpan<byte>((void*)copy.Data, _frameBytes));
            }
        }
        catch (IOException ex)
        {
            if (_stalled) throw Stalled(ex);
            throw new MediaException($"encoding failed ({Ffprobe.FirstLine(_stderr.ToString())})", ex);
        }
        finally
        {
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        FramesWritten++;
    }

    /// <summary>Closes the input and waits for ffmpeg to write the file.</summary>
    public async Task FinishAsync(CancellationToken ct = default)
    {
        _finished = true;
        _watchdog.Change(_stallTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            await _stdin.DisposeAsync();
            await _process.WaitForExitAsync(ct);
        }
        catch (IOException ex) when (_stalled)
        {
            throw Stalled(ex);
        }
        finally
        {
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        if (_stalled) throw Stalled(null);
        if (_process.ExitCode != 0)
            throw new MediaException($"encoding failed ({Ffprobe.FirstLine(_stderr.ToString())})");
    }

    private MediaToolException Stalled(Exception? inner) =>
        new(_tool, ToolFailure.Stalled, $"{_tool} accepted no video frame for {_stallTimeout.TotalSeconds:0.#} s and was stopped", inner);

    public void Dispose()
    {
        _watchdog.Dispose();
        if (!_finished || !_process.HasExited)
        {
            ProcessRunner.Kill(_process);
            try { File.Delete(_output); } catch (IOException) { }
        }
        _process.Dispose();
    }
}
