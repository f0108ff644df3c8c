using System.Diagnostics;
using System.Globalization;

namespace Roto.Client.Tests.Server;

/// <summary>ffprobe/ffmpeg facts about a produced video, for assertions.</summary>
internal static class Media
{
    public static (string Codec, int Width, int Height, int Frames) Probe(string path)
    {
        var output = Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
            "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", path).Trim().Split(',');
        return (output[0], int.Parse(output[1], CultureInfo.InvariantCulture), int.Parse(output[2], CultureInfo.InvariantCulture),
            int.Parse(output[3], CultureInfo.InvariantCulture));
    }

    /// <summary>One frame as 8-bit grey pixels, row-major.</summary>
    public static byte[] GreyFrame(string path, int index, int width, int height)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-v", "error", "-nostdin", "-i", path, "-vf", $"select=eq(n\\,{index})", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        using var buffer = new MemoryStream();
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        process.WaitForExit();
        var frame = buffer.ToArray();
        if (process.ExitCode != 0 || frame.Length != width * height)
            throw new InvalidOperationException($"ffmpeg frame {index} of {path}: {errors.Result} ({frame.Length} bytes)");
        return frame;
    }

    /// <summary>Mean absolute difference of two grey frames inside a pixel rectangle.</summary>
    public static double MeanDifference(byte[] a, byte[] b, int width, (int X0, int Y0, int X1, int Y1) box)
    {
        long sum = 0, count = 0;
        for (var y = box.Y0; y < box.Y1; y++)
            for (var x = box.X0; x < box.X1; x++, count++)
                sum += Math.Abs(a[y * width + x] - b[y * width + x]);
        return (double)sum / count;
    }

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed: {errors.Result}");
    }
}
