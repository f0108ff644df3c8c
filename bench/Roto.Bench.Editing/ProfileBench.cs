using System.Diagnostics;
using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Propagation;
using Roto.Vision.Removal;
using Roto.Vision.Segmentation;

namespace Roto.Bench.Editing;

/// <summary>
/// Where a removal of 01_dog.mp4 spends its time, stage by stage, with the track of one click made by the server's
/// own engines (the segmenter and propagator the API uses), next to an ffmpeg transcode timed in the same run.
/// </summary>
public static class ProfileBench
{
    public static void Run(MediaTools tools, bool reuseTrack, bool removalOnly)
    {
        var clip = TestData.Clip("01_dog.mp4");
        var info = new Ffprobe(tools).ProbeAsync(clip).GetAwaiter().GetResult();
        var frames = (int)new Ffprobe(tools).CountFramesAsync(clip).GetAwaiter().GetResult();
        var video = new VideoSource(tools, clip, info.Width, info.Height, info.Fps, frames);
        var tmp = TestData.TempDir("roto-bench-profile");
        try
        {
            Console.WriteLine($"load: {Load()}");
            var transcode = removalOnly ? double.NaN : Time(() => TestData.Ffmpeg("-i", clip, "-c:v", "libx264", "-preset", "veryfast", Path.Combine(tmp, "out.mp4")));
            var decode = removalOnly ? double.NaN : Time(() =>
            {
                using var reader = video.OpenReader();
                using var f = new Mat(video.Height, video.Width, MatType.CV_8UC3);
                while (reader.ReadInto(f)) { }
            });
            var encode = removalOnly ? double.NaN : Time(() =>
            {
                using var reader = video.OpenReader();
                using var writer = new VideoFrameWriter(tools, Path.Combine(tmp, "plain.mp4"), video.Width, video.Height, video.Fps, clip);
                using var f = new Mat(video.Height, video.Width, MatType.CV_8UC3);
                while (reader.ReadInto(f)) writer.Write(f);
                writer.FinishAsync().GetAwaiter().GetResult();
            });

            var masks = new List<Mat>();
            var cache = Path.Combine(Path.GetTempPath(), "roto-bench-profile-track");
            var tracking = double.NaN;
            if (reuseTrack && Directory.Exists(cache))
                masks.AddRange(Directory.GetFiles(cache, "*.png").Order().Select(f => Cv2.ImRead(f, ImreadModes.Grayscale)));
            else tracking = Time(() =>
            {
                using var first = TimingBench.ReadFrame(video, 0);
                using var segmenter = new FeatureGraphSegmenter();
                using var mask = segmenter.Segment(new SegmentRequest(first, [new Click(0.49, 0.64)], null));
                new FlowColourPropagator().Propagate(video, [new Keyframe(0, 1, mask)], (_, _, m) => masks.Add(m[1].Clone()), null, CancellationToken.None);
                Directory.CreateDirectory(cache);
                for (var i = 0; i < masks.Count; i++) Cv2.ImWrite(Path.Combine(cache, $"{i:D5}.png"), masks[i]);
            });
            using var track = new InMemoryMaskTrack(masks);
            var area = masks.Average(m => Cv2.CountNonZero(m) * 100.0 / m.Total());

            var timings = new RemovalTimings();
            var removal = Time(() =>
            {
                using var writer = new VideoFrameWriter(tools, Path.Combine(tmp, "removed.mp4"), video.Width, video.Height, video.Fps, clip);
                new FlowGuidedRemover { Timings = timings }.Remove(video, track, (_, f) => writer.Write(f), null, CancellationToken.None);
                var finish = timings.Start();
                writer.FinishAsync().GetAwaiter().GetResult();
                timings.Stop("encoder drain", finish);
            });

            Console.WriteLine($"01_dog.mp4 {video.Width}x{video.Height}, {frames} frames; tracked mask {area:F1}% of the frame on average");
            Console.WriteLine($"ffmpeg transcode (libx264 veryfast):   {transcode:F2} s");
            Console.WriteLine($"full-size decode alone:                {decode:F2} s");
            Console.WriteLine($"decode + Roto's encoder alone:         {encode:F2} s");
            Console.WriteLine($"tracking (segmenter + propagator):     {tracking:F2} s");
            Console.WriteLine($"removal incl. encode:                  {removal:F2} s  ({removal / transcode:F1}x the transcode)");
            Console.WriteLine("  CPU seconds per stage (thread clocks):");
            foreach (var (stage, seconds) in timings.Seconds()) Console.WriteLine($"  {stage,-28} {seconds:F2}");
            Console.WriteLine($"load: {Load()}");
        }
        finally
        {
            Directory.Delete(tmp, true);
        }
    }

    public static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        var cpu = CpuSeconds();
        action();
        var seconds = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"    ({seconds:F2} s wall, {CpuSeconds() - cpu:F2} s CPU of this process and its finished ffmpeg children, load {Load()})");
        return seconds;
    }

    /// <summary>
    /// CPU seconds of this process plus its reaped children (ffmpeg): steadier than wall time on a machine others load,
    /// so it says whether a change made the work smaller.
    /// </summary>
    public static double CpuSeconds()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14–17 of proc(5) (utime, stime, cutime, cstime), counted from field 3 here.
        return Enumerable.Range(11, 4).Sum(i => double.Parse(fields[i])) / 100.0;
    }

    /// <summary>The 1/5/15-minute load averages: timings on a shared machine mean little without them.</summary>
    public static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
