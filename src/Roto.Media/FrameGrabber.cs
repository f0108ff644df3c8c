using System.Collections.Concurrent;
using System.Globalization;
using OpenCvSharp;

namespace Roto.Media;

/// <summary>Decodes one frame by index with a seek, so a click on frame 280 does not decode 279 frames first.</summary>
public static class FrameGrabber
{
    /// <returns>The frame as BGR at full size; the caller disposes it.</returns>
    public static async Task<Mat> ReadAsync(VideoSource video, int frameIndex, CancellationToken ct = default)
    {
        if (frameIndex < 0 || frameIndex >= video.FrameCount) throw new ArgumentOutOfRangeException(nameof(frameIndex));
        var colours = video.Tools.InProcessFrames ? await ColoursOfAsync(video, ct) : default;
        return (colours.InProcess ? ReadInProcess(video, frameIndex, colours.Bt709) : null) ?? await ReadWithFfmpegAsync(video, frameIndex, ct);
    }

    /// <summary>
    /// Two frames a few apart (a click's frame and the one its motion cue compares it with) from one seek, decoding
    /// the frames between: a second seek would open the file and decode from the key frame again, which cost a first
    /// click at 1280×720 about 0.6 s.
    /// </summary>
    /// <returns>Both frames as BGR at full size, in the order asked; the caller disposes them.</returns>
    public static async Task<(Mat First, Mat Second)> ReadPairAsync(VideoSource video, int first, int second, CancellationToken ct = default)
    {
        if (first < 0 || first >= video.FrameCount) throw new ArgumentOutOfRangeException(nameof(first));
        if (second < 0 || second >= video.FrameCount) throw new ArgumentOutOfRangeException(nameof(second));
        var colours = video.Tools.InProcessFrames ? await ColoursOfAsync(video, ct) : default;
        if (colours.InProcess && ReadSpanInProcess(video, Math.Min(first, second), Math.Max(first, second), colours.Bt709) is { } span)
            return first <= second ? (span.From, span.To) : (span.To, span.From);
        var a = await ReadWithFfmpegAsync(video, first, ct);
        try
        {
            return (a, await ReadWithFfmpegAsync(video, second, ct));
        }
        catch
        {
            a.Dispose();
            throw;
        }
    }

    /// <summary>Frames <paramref name="from"/> and <paramref name="to"/> (≥ from) from one capture; null as <see cref="ReadInProcess"/>.</summary>
    private static (Mat From, Mat To)? ReadSpanInProcess(VideoSource video, int from, int to, bool bt709)
    {
        using var capture = new VideoCapture(video.Path, VideoCaptureAPIs.FFMPEG);
        if (!capture.IsOpened()) return null;
        if (from > 0 && !capture.Set(VideoCaptureProperties.PosFrames, from)) return null;
        var first = ReadNext(capture, video, bt709);
        if (first == null) return null;
        for (var i = from + 1; i < to; i++)
        {
            if (capture.Grab()) continue;
            first.Dispose();
            return null;
        }
        var last = to == from ? first.Clone() : ReadNext(capture, video, bt709);
        if (last != null) return (first, last);
        first.Dispose();
        return null;
    }

    private static Mat? ReadNext(VideoCapture capture, VideoSource video, bool bt709)
    {
        var frame = new Mat();
        if (!capture.Read(frame) || frame.Width != video.Width || frame.Height != video.Height || frame.Type() != MatType.CV_8UC3)
        {
            frame.Dispose();
            return null;
        }
        if (bt709) Cv2.Transform(frame, frame, Bt601ToBt709);
        return frame;
    }

    /// <summary>How a file's YUV turns into BGR, probed once per file: a restart only costs one probe again.</summary>
    private static readonly ConcurrentDictionary<string, Task<(bool InProcess, bool Bt709)>> Colours = new();

    private static async Task<(bool InProcess, bool Bt709)> ColoursOfAsync(VideoSource video, CancellationToken ct)
    {
        if (Colours.Count > 4096) Colours.Clear();
        var task = Colours.GetOrAdd(video.Path, async path =>
        {
            var info = await new Ffprobe(video.Tools).ProbeAsync(path, CancellationToken.None);
            // OpenCV's conversion is right for limited-range BT.601 and, mapped (below), for BT.709; other matrices and
            // full range go to ffmpeg, which honours what the stream says.
            var matrix = info.ColourSpace ?? "unknown";
            var inProcess = info.PixelFormat == "yuv420p" && info.ColourRange != "pc"
                && matrix is "unknown" or "bt709" or "bt470bg" or "smpte170m";
            return (inProcess, matrix == "bt709");
        });
        try { return await task.WaitAsync(ct); }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            Colours.TryRemove(video.Path, out _);
            return (false, false);
        }
    }

    /// <summary>
    /// The frame from OpenCV's own FFmpeg: starting an ffmpeg process costs about 0.2 s before it decodes anything,
    /// the larger part of a first click's wait. OpenCV converts YUV with BT.601 coefficients whatever the stream
    /// says; for a BT.709 stream (<paramref name="bt709"/>) the colours are mapped onto BT.709's, so the frame equals
    /// what ffmpeg gives up to rounding. Null when OpenCV cannot open, seek or read the file, or gives a frame of
    /// another size; then the ffmpeg process decodes it.
    /// </summary>
    public static Mat? ReadInProcess(VideoSource video, int frameIndex, bool bt709)
    {
        using var capture = new VideoCapture(video.Path, VideoCaptureAPIs.FFMPEG);
        if (!capture.IsOpened()) return null;
        if (frameIndex > 0 && !capture.Set(VideoCaptureProperties.PosFrames, frameIndex)) return null;
        return ReadNext(capture, video, bt709);
    }

    /// <summary>
    /// BGR decoded with BT.601's matrix to BGR decoded with BT.709's, both limited range: A709 · A601⁻¹, where A maps
    /// centred YUV to RGB (the offsets cancel), rows and columns in BGR order.
    /// </summary>
    private static readonly Mat Bt601ToBt709 = Mat.FromPixelData(3, 3, MatType.CV_32FC1, new float[]
    {
        1.041800f, -0.027694f, -0.014106f,
        0.058402f, 0.845052f, 0.096546f,
        -0.014051f, -0.072349f, 1.086400f,
    });

    /// <summary>The frame from an ffmpeg process with an input seek.</summary>
    public static async Task<Mat> ReadWithFfmpegAsync(VideoSource video, int frameIndex, CancellationToken ct = default)
    {
        // Seek half a frame early: the first frame at or after that time is exactly frame frameIndex.
        var seconds = Math.Max(0, (frameIndex - 0.5) / video.Fps.Value);
        var args = new List<string> { "-v", "error", "-nostdin", "-ss", seconds.ToString("0.######", CultureInfo.InvariantCulture),
            "-i", video.Path, "-map", "0:v:0", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "bgr24", "-" };
        using var process = new System.Diagnostics.Process { StartInfo = ProcessRunner.StartInfo(video.Tools.FfmpegPath, args, redirectStdin: false) };
        var stderr = new ProcessRunner.TailBuffer(2048);
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) stderr.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            var tool = Path.GetFileName(video.Tools.FfmpegPath);
            throw new MediaToolException(tool, ToolFailure.NotStarted, $"could not start {tool}: {ex.Message}", ex);
        }
        process.BeginErrorReadLine();
        var mat = new Mat(video.Height, video.Width, MatType.CV_8UC3);
        try
        {
            var length = video.Width * video.Height * 3;
            var buffer = new byte[length];
            var read = 0;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(video.Tools.ProbeTimeout);
            var stdout = process.StandardOutput.BaseStream;
            while (read < length)
            {
                var n = await stdout.ReadAsync(buffer.AsMemory(read), deadline.Token);
                if (n == 0) break;
                read += n;
            }
            if (read != length)
            {
                if (process.WaitForExit(video.Tools.ProbeTimeout) && ProcessRunner.SignalOf(process.ExitCode) is { } signal)
                    throw MediaToolException.Crashed(Path.GetFileName(video.Tools.FfmpegPath), signal, $"decoding frame {frameIndex}");
                throw new MediaException($"frame {frameIndex} could not be decoded ({MediaMessages.Detail(stderr.ToString(), video.Path)})");
            }
            System.Runtime.InteropServices.Marshal.Copy(buffer, 0, mat.Data, length);
            return mat;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            mat.Dispose();
            var tool = Path.GetFileName(video.Tools.FfmpegPath);
            throw new MediaToolException(tool, ToolFailure.TimedOut,
                $"{tool} did not deliver frame {frameIndex} within {video.Tools.ProbeTimeout.TotalSeconds:0.#} s and was stopped");
        }
        catch
        {
            mat.Dispose();
            throw;
        }
        finally
        {
            ProcessRunner.Kill(process);
        }
    }
}
