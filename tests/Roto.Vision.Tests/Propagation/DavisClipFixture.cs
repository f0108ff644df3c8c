using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Vision.Tests.Propagation;

/// <summary>The first frames of a real DAVIS sequence (a car driving off, camera panning) as a video, with ground truth.</summary>
public sealed class DavisClipFixture : IDisposable
{
    public const string Sequence = "car-shadow";
    public const int Frames = 15;
    private readonly string _dir = TestData.TempDir("roto-propagation");

    public DavisClipFixture() => Video = MakeVideo(Sequence, Frames, _dir);

    /// <summary>The first <paramref name="frames"/> frames of a DAVIS sequence as a 24 fps H.264 video in <paramref name="dir"/>.</summary>
    public static VideoSource MakeVideo(string sequence, int frames, string dir)
    {
        var jpegs = Path.Combine(TestData.Davis(sequence), "frames");
        var path = Path.Combine(dir, sequence + ".mp4");
        TestData.Ffmpeg("-framerate", "24", "-i", Path.Combine(jpegs, "%05d.jpg"), "-frames:v", frames.ToString(),
            "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", path);
        using var first = Cv2.ImRead(Path.Combine(jpegs, "00000.jpg"));
        return new VideoSource(new MediaTools(), path, first.Width, first.Height, new FrameRate(24, 1), frames);
    }

    public VideoSource Video { get; }

    public Mat Truth(int frame) => Cv2.ImRead(Path.Combine(TestData.Davis(Sequence), "masks", $"{frame:D5}.png"), ImreadModes.Grayscale);

    public void Dispose() => Directory.Delete(_dir, true);
}
