using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Compositing;
using Roto.Vision.Removal;

namespace Roto.Bench.Editing;

/// <summary>Contact sheets of a removal, a swap and two additions on real clips, for people to look at.</summary>
public static class SheetsBench
{
    public static void Run(MediaTools tools, string outDir, int maxFrames)
    {
        var tmp = TestData.TempDir("roto-bench-sheets");
        try
        {
            // Removal on real footage with its ground-truth masks (no truth without the element exists here).
            foreach (var seq in new[] { "bmx-trees", "dog" })
            {
                var (video, track) = Davis(tools, tmp, seq, maxFrames);
                var input = LosslessVideo.ReadAll(video);
                var output = new List<Mat>();
                new FlowGuidedRemover().Remove(video, track, (_, f) => output.Add(f.Clone()), null, CancellationToken.None);
                Save(outDir, $"removal-{seq}.png", [("input", input), ("roto removal", output)], video.FrameCount);
            }

            // Swap: the black swan replaced by the dog of DAVIS dog (a PNG cut-out with alpha).
            {
                var (video, track) = Davis(tools, tmp, "blackswan", maxFrames);
                var input = LosslessVideo.ReadAll(video);
                using var cutout = Cutout("dog", 0);
                var subject = new SubjectExtractor().Extract(cutout);
                var output = new List<Mat>();
                new SceneCompositor().Swap(video, track, subject, new FlowGuidedRemover(), (_, f) => output.Add(f.Clone()), null, CancellationToken.None);
                Save(outDir, "swap-blackswan-to-dog.png", [("input", input), ("roto swap", output)], video.FrameCount);
            }

            // Addition on a real clip with a moving camera: two subjects at a placement, then one anchored to a marked region.
            {
                var frames = new List<Mat>();
                using (var reader = new VideoFrameReader(tools, TestData.Clip("01_dog.mp4"), 854, 480))
                    frames.AddRange(reader.Frames().Take(Math.Max(maxFrames, 90)));
                var video = LosslessVideo.Write(tools, Path.Combine(tmp, "dog-clip.mkv"), frames, new FrameRate(30000, 1001));
                using var swan = Cutout("blackswan", 0);
                using var camel = Cutout("camel", 0);
                var subjects = new[] { new SubjectExtractor().Extract(swan), new SubjectExtractor().Extract(camel) };
                var output = new List<Mat>();
                new SceneCompositor().Add(video, null, subjects, new Placement(0.72, 0.62, 0.28), (_, f) => output.Add(f.Clone()), null, CancellationToken.None);
                Save(outDir, "addition-01_dog-placement.png", [("input", frames), ("roto addition", output)], video.FrameCount);
            }
            {
                var (video, track) = Davis(tools, tmp, "bmx-trees", maxFrames);
                var input = LosslessVideo.ReadAll(video);
                using var dog = Cutout("dog", 0);
                var output = new List<Mat>();
                new SceneCompositor().Add(video, track, [new SubjectExtractor().Extract(dog)], null, (_, f) => output.Add(f.Clone()), null, CancellationToken.None);
                Save(outDir, "addition-bmx-trees-anchored.png", [("input", input), ("roto addition", output)], video.FrameCount);
            }
        }
        finally
        {
            Directory.Delete(tmp, true);
        }
    }

    private static void Save(string outDir, string name, IReadOnlyList<(string, IReadOnlyList<Mat>)> rows, int frames)
    {
        ContactSheet.Save(Path.Combine(outDir, name), rows, [0, frames / 3, 2 * frames / 3, frames - 1]);
        Console.WriteLine($"wrote {Path.Combine(outDir, name)}");
    }

    private static (VideoSource, IMaskTrack) Davis(MediaTools tools, string tmp, string seq, int maxFrames)
    {
        var dir = TestData.Davis(seq);
        var files = Directory.GetFiles(Path.Combine(dir, "frames"), "*.jpg").Order().Take(maxFrames).ToList();
        var masks = Directory.GetFiles(Path.Combine(dir, "masks"), "*.png").Order().Take(files.Count).ToList();
        var frames = files.Select(f => Cv2.ImRead(f)).ToList();
        var video = LosslessVideo.Write(tools, Path.Combine(tmp, $"{seq}.mkv"), frames, new FrameRate(25, 1));
        foreach (var f in frames) f.Dispose();
        return (video, new PngMaskTrack(masks, video.Width, video.Height));
    }

    /// <summary>A DAVIS element cut out with its ground-truth mask as alpha, as a user's PNG would be.</summary>
    private static Mat Cutout(string seq, int frame)
    {
        using var bgr = Cv2.ImRead(Path.Combine(TestData.Davis(seq), "frames", $"{frame:D5}.jpg"));
        using var mask = Cv2.ImRead(Path.Combine(TestData.Davis(seq), "masks", $"{frame:D5}.png"), ImreadModes.Grayscale);
        Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
        var parts = bgr.Split();
        var bgra = new Mat();
        Cv2.Merge([parts[0], parts[1], parts[2], mask], bgra);
        foreach (var p in parts) p.Dispose();
        return bgra;
    }
}
