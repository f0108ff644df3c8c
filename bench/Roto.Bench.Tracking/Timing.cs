using System.Diagnostics;
using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;

namespace Roto.Bench.Tracking;

/// <summary>Times propagation (full-size decode included) on 01_dog.mp4 and a 1080p60 clip made from it, next to an ffmpeg transcode.</summary>
internal static class Timing
{
    public static void Run(IMaskPropagator propagator)
    {
        var tools = new MediaTools();
        // As the server does at start (Roto:WarmFirstFrame): the first propagation should not pay for loading networks.
        var load = Stopwatch.StartNew();
        propagator.Load();
        Console.WriteLine($"\nnetworks loaded in {load.Elapsed.TotalSeconds:F2} s (before the timings, as the server loads them at start)");
        Console.WriteLine("\n## Propagation time\n");
        Console.WriteLine("| clip | frames | ffmpeg veryfast transcode s | propagation s | ratio | peak RSS MiB |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var dog = TestData.Clip("01_dog.mp4");
        Measure(propagator, tools, "01_dog.mp4 (1280×720)", dog);
        var dir = TestData.TempDir("roto-bench-track");
        try
        {
            var big = TestData.MakeFromClip(dir, "1080p60.mp4", TestData.Clip("01_dog.mp4"), 1920, 1080, 10, "60");
            Measure(propagator, tools, "01_dog.mp4 as 1920×1080 60 fps 10 s", big);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void Measure(IMaskPropagator propagator, MediaTools tools, string label, string path)
    {
        var probe = new Ffprobe(tools);
        var info = probe.ProbeAsync(path).GetAwaiter().GetResult();
        var frames = (int)probe.CountFramesAsync(path).GetAwaiter().GetResult();
        var video = new VideoSource(tools, path, info.Width, info.Height, info.Fps, frames);

        var outDir = TestData.TempDir("roto-bench-ffmpeg");
        var sw = Stopwatch.StartNew();
        TestData.Ffmpeg("-i", path, "-c:v", "libx264", "-preset", "veryfast", Path.Combine(outDir, "out.mp4"));
        var transcode = sw.Elapsed.TotalSeconds;
        Directory.Delete(outDir, true);

        // One click's worth of selection: a centred ellipse on frame 0, as a segmenter would hand over.
        using var mask = new Mat(video.Height, video.Width, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Ellipse(mask, new Point(video.Width / 2, video.Height / 2), new Size(video.Width / 8, video.Height / 5), 0, 0, 360, Scalar.All(255), -1);
        var peak = 0L;
        using var process = Process.GetCurrentProcess();
        sw.Restart();
        var count = 0;
        propagator.Propagate(video, [new Keyframe(0, 1, mask)], (i, _, _) =>
        {
            count++;
            if (i % 10 == 0)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
            }
        }, null, CancellationToken.None);
        var seconds = sw.Elapsed.TotalSeconds;
        process.Refresh();
        peak = Math.Max(Math.Max(peak, process.WorkingSet64), process.PeakWorkingSet64);
        if (count != frames) throw new InvalidOperationException($"{count} frames tracked of {frames}");
        Console.WriteLine($"| {label} | {frames} | {transcode:F2} | {seconds:F2} | {seconds / transcode:F2} | {peak / (1024 * 1024)} |");
    }
}
