using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Bench.Tracking;

/// <summary>One DAVIS sequence: its frames made into a video for VideoSource, and its ground-truth masks.</summary>
internal sealed class DavisSequence
{
    public required string Name { get; init; }
    public required VideoSource Video { get; init; }
    public required string MasksDir { get; init; }
    public int FrameCount => Video.FrameCount;

    public Mat GroundTruth(int frame) => Cv2.ImRead(Path.Combine(MasksDir, $"{frame:D5}.png"), ImreadModes.Grayscale);

    public static IEnumerable<string> Names() =>
        Directory.GetDirectories(Path.Combine(TestData.Dir, "davis16-dev"))
            .Where(d => Directory.Exists(Path.Combine(d, "frames"))).Select(Path.GetFileName).Order()!;

    /// <summary>Encodes the JPEG frames once into a cache folder (near-lossless H.264, 24 fps).</summary>
    public static DavisSequence Open(string name, string cacheDir)
    {
        var dir = TestData.Davis(name);
        var frames = Directory.GetFiles(Path.Combine(dir, "frames"), "*.jpg").Length;
        var video = Path.Combine(cacheDir, name + ".mp4");
        if (!File.Exists(video))
        {
            var partial = video + ".part.mp4";
            TestData.Ffmpeg("-framerate", "24", "-i", Path.Combine(dir, "frames", "%05d.jpg"), "-c:v", "libx264", "-crf", "12",
                "-pix_fmt", "yuv420p", partial);
            File.Move(partial, video);
        }
        using var first = Cv2.ImRead(Path.Combine(dir, "frames", "00000.jpg"));
        var source = new VideoSource(new MediaTools(), video, first.Width, first.Height, new FrameRate(24, 1), frames);
        return new DavisSequence { Name = name, Video = source, MasksDir = Path.Combine(dir, "masks") };
    }
}
