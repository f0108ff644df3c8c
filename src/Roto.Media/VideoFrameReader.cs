using System.Diagnostics;
using OpenCvSharp;

namespace Roto.Media;

/// <summary>
/// Decodes a video to BGR frames one at a time through an ffmpeg pipe, so a whole video is never held in memory.
/// ffmpeg (not OpenCV's capture) decodes so that the frames match exactly what ffprobe counted.
/// </summary>
public sealed class VideoFrameReader : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdout;
    private readonly ProcessRunner.TailBuffer _stderr = new(4096);
    private readonly int _frameBytes;
    private readonly string _tool;
    private readonly TimeSpan _stallTimeout;
    private readonly Timer _watchdog;
    private volatile bool _stalled;

    /// <param name="width">Output width; 0 keeps the video's size (then <paramref name="height"/> must be 0 too).</param>
    public VideoFrameReader(MediaTools tools, string path, int width, int height, bool gray = false, int startFrame = 0, int threads = 0)
    {
        Width = width;
        Height = height;
        Channels = gray ? 1 : 3;
        _frameBytes = width * height * Channels;
        var filters = new List<string>();
        if (startFrame > 0) filters.Add($"select=gte(n\\,{startFrame})");
        filters.Add($"scale={width}:{height}:flags=area");
        var args = new List<string> { "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-vf", string.Join(',', filters),
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", gray ? "gray" : "bgr24" };
        if (threads > 0) args.AddRange(["-threads", threads.ToString()]);
        args.Add("-");
        _process = new Process { StartInfo = ProcessRunner.StartInfo(tools.FfmpegPath, args, redirectStdin: false) };
        _tool = Path.GetFileName(tools.FfmpegPath);
        _stallTimeout = tools.StallTimeout;
        // A hung ffmpeg would block Read forever; killing it closes the pipe, and Read returns.
        _watchdog = new Timer(_ =>
        {
            _stalled = true;
            ProcessRunner.Kill(_process);
        });
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) _stderr.AppendLine(e.Data); };
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
        _stdout = _process.StandardOutput.BaseStream;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    /// <summary>Reads the next frame into a new Mat that the caller owns, or null at the end of the video.</summary>
    public Mat? ReadFrame()
    {
        var mat = new Mat(Height, Width, Channels == 3 ? MatType.CV_8UC3 : MatType.CV_8UC1);
        if (ReadInto(mat)) return mat;
        mat.Dispose();
        return null;
    }

    /// <summary>Reads the next frame into <paramref name="mat"/> (continuous, of this reader's size and type); false at the end.</summary>
    public unsafe bool ReadInto(Mat mat)
    {
        var span = new Span<byte>((void*)mat.Data, _frameBytes);
        var read = 0;
        // Armed only while waiting for ffmpeg: the caller's own time per frame never counts as a stall.
        _watchdog.Change(_stallTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            while (read < _frameBytes)
            {
                var n = _stdout.Read(span[read..]);
                if (n == 0) break;
                read += n;
            }
        }
        catch (IOException) when (_stalled)
        {
        }
        finally
        {
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        if (_stalled)
            throw new MediaToolException(_tool, ToolFailure.Stalled, $"{_tool} delivered no video frame for {_stallTimeout.TotalSeconds:0.#} s and was stopped");
        if (read == _frameBytes) return true;
        if (!_process.WaitForExit(_stallTimeout)) ProcessRunner.Kill(_process);
        if (ProcessRunner.SignalOf(_process.ExitCode) is { } signal) throw MediaToolException.Crashed(_tool, signal, "decoding the video");
        if (read != 0) throw new MediaException("the video ended inside a frame");
        if (_process.ExitCode != 0) throw new MediaException($"decoding failed ({MediaMessages.Detail(_stderr.ToString())})");
        return false;
    }

    /// <summary>All remaining frames in order; each Mat is the caller's to dispose.</summary>
    public IEnumerable<Mat> Frames()
    {
        while (ReadFrame() is { } frame) yield return frame;
    }

    public void Dispose()
    {
        _watchdog.Dispose();
        ProcessRunner.Kill(_process);
        _process.Dispose();
    }
}
