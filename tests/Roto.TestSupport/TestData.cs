using System.Diagnostics;

namespace Roto.TestSupport;

/// <summary>Finds the shared test data (../shared/data beside the checkout) and makes videos with ffmpeg.</summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The shared data folder; ROTO_TEST_DATA overrides the search.</summary>
    public static string Dir => Root.Value;

    public static string Clip(string name) => Path.Combine(Dir, "clips", name);

    public static string Davis(string sequence) => Path.Combine(Dir, "davis16-dev", sequence);

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("ROTO_TEST_DATA");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "clips"))) return candidate;
        }
        throw new DirectoryNotFoundException("shared/data not found beside the checkout; set ROTO_TEST_DATA");
    }

    /// <summary>A fresh temporary folder for one test.</summary>
    public static string TempDir(string prefix = "roto-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs ffmpeg with the given arguments (after -y) and fails loudly if it fails.</summary>
    public static void Ffmpeg(params string[] args)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])["-v", "error", "-nostdin", "-y", .. args]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffmpeg {string.Join(' ', args)} failed: {err.Result}");
    }

    /// <summary>A synthetic test video: a moving square on a textured background, with a tone when <paramref name="audio"/>.</summary>
    /// <summary>
    /// A real clip made into a larger, faster one: scaled to <paramref name="width"/>×<paramref name="height"/>, converted
    /// to <paramref name="fps"/> (frames repeated, as a 30 fps camera's clip converted to 60 has them), looped to
    /// <paramref name="seconds"/>. The benchmarks' 1080p60 clip: real content costs what a user's video costs to
    /// track and encode, which a test pattern does not.
    /// </summary>
    public static string MakeFromClip(string dir, string name, string clip, int width, int height, double seconds, string fps)
    {
        var path = Path.Combine(dir, name);
        Ffmpeg("-stream_loop", "-1", "-i", clip, "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-an",
            "-vf", $"scale={width}:{height}:flags=bicubic,fps={fps}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", path);
        return path;
    }

    public static string MakeVideo(string dir, string name, int width, int height, double seconds, string fps = "30", bool audio = true, params string[] extra)
    {
        var path = Path.Combine(dir, name);
        var inputs = new List<string> { "-f", "lavfi", "-i", $"testsrc2=size={width}x{height}:rate={fps}:duration={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}" };
        if (audio) inputs.AddRange(["-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]);
        Ffmpeg([.. inputs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", .. (audio ? (string[])["-c:a", "aac", "-shortest"] : []), .. extra, path]);
        return path;
    }
}
