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

    public DavisClipFixture()
    {
        var frames = Path.Combine(TestData.Davis(Sequence), "frames");
        var path = Path.Combine(_dir, Sequence + ".mp4");
        TestData.Ffmpeg("-framerate", "24", "-i", Path.Combine(frames, "%05d.jpg"), "-frames:v", Frames.ToString(),
            "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", path);
        using var first = Cv2.ImRead(Path.Combine(frames, "00000.jpg"));
        Video = new VideoSource(new MediaTools(), path, first.Width, first.Height, new FrameRate(24, 1), Frames);
    }

    public VideoSource Video { get; }

    public Mat Truth(int frame) => Cv2.ImRead(Path.Combine(TestData.Davis(Sequence), "masks", $"{frame:D5}.png"), ImreadModes.Grayscale);

    public void Dispose() => Directory.Delete(_dir, true);
}
