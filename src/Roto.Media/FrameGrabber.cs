using System.Globalization;
using OpenCvSharp;

namespace Roto.Media;

/// <summary>Decodes one frame by index with an input seek, so a click on frame 280 does not decode 279 frames first.</summary>
public static class FrameGrabber
{
    /// <returns>The frame as BGR at full size; the caller disposes it.</returns>
    public static async Task<Mat> ReadAsync(VideoSource video, int frameIndex, CancellationToken ct = default)
    {
        if (frameIndex < 0 || frameIndex >= video.FrameCount) throw new ArgumentOutOfRangeException(nameof(frameIndex));
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
