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
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) _stderr.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, _) => { };
        try
        {
            _process.Start();
        }
        catch (Exception ex)
        {
            throw new MediaException($"could not start ffmpeg: {ex.Message}", ex);
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
            throw new MediaException($"encoding failed ({Ffprobe.FirstLine(_stderr.ToString())})", ex);
        }
        FramesWritten++;
    }

    /// <summary>Closes the input and waits for ffmpeg to write the file.</summary>
    public async Task FinishAsync(CancellationToken ct = default)
    {
        _finished = true;
        await _stdin.DisposeAsync();
        await _process.WaitForExitAsync(ct);
        if (_process.ExitCode != 0)
            throw new MediaException($"encoding failed ({Ffprobe.FirstLine(_stderr.ToString())})");
    }

    public void Dispose()
    {
        if (!_finished || !_process.HasExited)
        {
            ProcessRunner.Kill(_process);
            try { File.Delete(_output); } catch (IOException) { }
        }
        _process.Dispose();
    }
}
