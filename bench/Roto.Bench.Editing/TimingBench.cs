using System.Diagnostics;
using Roto.Baselines;
using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Propagation;
using Roto.Vision.Removal;
using Roto.Vision.Segmentation;

namespace Roto.Bench.Editing;

/// <summary>A whole removal of 01_dog.mp4 (decode, motion, completion, H.264 encode) against a plain ffmpeg transcode.</summary>
public static class TimingBench
{
    public static void Run(MediaTools tools, string outDir)
    {
        var clip = TestData.Clip("01_dog.mp4");
        var info = new Ffprobe(tools).ProbeAsync(clip).GetAwaiter().GetResult();
        var frames = (int)new Ffprobe(tools).CountFramesAsync(clip).GetAwaiter().GetResult();
        var video = new VideoSource(tools, clip, info.Width, info.Height, info.Fps, frames);
        var tmp = TestData.TempDir("roto-bench-timing");
        try
        {
            var sw = Stopwatch.StartNew();
            TestData.Ffmpeg("-i", clip, "-c:v", "libx264", "-preset", "veryfast", Path.Combine(tmp, "out.mp4"));
            var transcode = sw.Elapsed.TotalSeconds;

            // The track: GrabCut from one click on the dog in frame 0, held on every frame (nearest-keyframe propagation).
            sw.Restart();
            using var first = ReadFrame(video, 0);
            using var mask = new GrabCutClickSegmenter().Segment(new SegmentRequest(first, [new Click(0.44, 0.62), new Click(0.47, 0.58)], null));
            var masks = new List<Mat>();
            new NearestKeyframePropagator().Propagate(video, [new Keyframe(0, 1, mask)], (_, _, m) => masks.Add(m[1].Clone()), null, CancellationToken.None);
            var trackSeconds = sw.Elapsed.TotalSeconds;
            using var track = new InMemoryMaskTrack(masks);

            sw.Restart();
            var sheetFrames = new Dictionary<int, Mat>();
            int[] columns = [0, frames / 3, 2 * frames / 3, frames - 1];
            using (var writer = new VideoFrameWriter(tools, Path.Combine(tmp, "removed.mp4"), video.Width, video.Height, video.Fps, clip))
            {
                new FlowGuidedRemover().Remove(video, track, (i, f) =>
                {
                    writer.Write(f);
                    if (columns.Contains(i)) sheetFrames[i] = f.Clone();
                }, null, CancellationToken.None);
                writer.FinishAsync().GetAwaiter().GetResult();
            }
            var removal = sw.Elapsed.TotalSeconds;

            sw.Restart();
            CameraPath.Estimate(video, track, null, CancellationToken.None);
            var pathSeconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            using (var reader = video.OpenReader())
                while (reader.ReadFrame() is { } f) f.Dispose();
            var decodeSeconds = sw.Elapsed.TotalSeconds;

            Console.WriteLine($"01_dog.mp4 {video.Width}x{video.Height} {frames} frames, mask {Cv2.CountNonZero(mask) * 100.0 / mask.Total():F1}% of the frame");
            Console.WriteLine($"ffmpeg -c:v libx264 -preset veryfast transcode: {transcode:F1} s");
            Console.WriteLine($"Roto removal incl. H.264 encode:             {removal:F1} s  ({removal / transcode:F1}x the transcode; bar <= 10x)");
            Console.WriteLine($"(of which, measured apart: camera path {pathSeconds:F1} s, full-size decode {decodeSeconds:F1} s)");
            Console.WriteLine($"(mask track for the timing, not counted:      {trackSeconds:F1} s)");

            var original = columns.Select(c => ReadFrame(video, c)).ToList();
            using var overlay = new Mat();
            var marked = original.Select(o => { var m = o.Clone(); m.SetTo(new Scalar(0, 0, 255), mask); Cv2.AddWeighted(o, 0.5, m, 0.5, 0, m); return m; }).ToList();
            var removed = columns.Select(c => sheetFrames[c]).ToList();
            ContactSheet.Save(Path.Combine(outDir, "removal-01_dog.png"), [("input + mask", marked), ("roto removal", removed)], [0, 1, 2, 3], labels: columns);
            foreach (var m in original.Concat(marked).Concat(removed)) m.Dispose();
        }
        finally
        {
            Directory.Delete(tmp, true);
        }
    }

    public static Mat ReadFrame(VideoSource video, int index)
    {
        using var reader = new VideoFrameReader(video.Tools, video.Path, video.Width, video.Height, startFrame: index);
        return reader.ReadFrame() ?? throw new InvalidOperationException($"no frame {index}");
    }
}
