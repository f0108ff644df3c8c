using System.Diagnostics;
using OpenCvSharp;
using Roto.Media;

namespace Roto.Bench.Editing;

/// <summary>Writes BGR frames losslessly (FFV1) so composites reach every method bit-exact.</summary>
public static class LosslessVideo
{
    public static unsafe VideoSource Write(MediaTools tools, string path, IReadOnlyList<Mat> frames, FrameRate fps)
    {
        var w = frames[0].Width;
        var h = frames[0].Height;
        var psi = new ProcessStartInfo(tools.FfmpegPath) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", $"{w}x{h}", "-framerate", fps.ToString(),
                     "-i", "-", "-c:v", "ffv1", "-pix_fmt", "bgr0", path])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var stdin = p.StandardInput.BaseStream;
        foreach (var f in frames)
        {
            using var c = f.IsContinuous() ? f.Clone() : f.Clone();
            stdin.Write(new ReadOnlySpan<byte>((void*)c.Data, w * h * 3));
        }
        stdin.Close();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("ffv1 encode failed: " + err.Result);
        return new VideoSource(tools, path, w, h, fps, frames.Count);
    }

    public static List<Mat> ReadAll(VideoSource video)
    {
        using var reader = video.OpenReader();
        return reader.Frames().ToList();
    }

    /// <summary>Runs ffmpeg with a filter over a lossless video and returns the filtered frames.</summary>
    public static List<Mat> Filter(VideoSource video, string filter, string outPath)
    {
        var psi = new ProcessStartInfo(video.Tools.FfmpegPath) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-v", "error", "-y", "-i", video.Path, "-vf", filter, "-c:v", "ffv1", "-pix_fmt", "bgr0", outPath])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffmpeg {filter} failed: {err}");
        return ReadAll(video with { Path = outPath });
    }
}
