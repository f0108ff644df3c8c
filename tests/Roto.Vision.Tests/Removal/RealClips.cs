using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Vision.Tests.Removal;

/// <summary>Short real clips for editing tests, written to a temporary folder with ffmpeg.</summary>
internal static class RealClips
{
    public static readonly MediaTools Tools = new();

    /// <summary>The first frames of a DAVIS sequence as a lossless video of the given size, with its ground-truth masks.</summary>
    public static (VideoSource Video, List<string> MaskFiles) Davis(string dir, string sequence, int frames, int width, int height)
    {
        var path = Path.Combine(dir, $"{sequence}.mkv");
        TestData.Ffmpeg("-framerate", "25", "-i", Path.Combine(TestData.Davis(sequence), "frames", "%05d.jpg"), "-frames:v", frames.ToString(),
            "-vf", $"scale={width}:{height}:flags=area", "-c:v", "ffv1", "-pix_fmt", "bgr0", path);
        var masks = Directory.GetFiles(Path.Combine(TestData.Davis(sequence), "masks"), "*.png").Order().Take(frames).ToList();
        return (new VideoSource(Tools, path, width, height, new FrameRate(25, 1), frames), masks);
    }

    /// <summary>Frames of a real clip, scaled, from the start.</summary>
    public static List<Mat> ClipFrames(string clip, int frames, int width, int height)
    {
        using var reader = new VideoFrameReader(Tools, TestData.Clip(clip), width, height);
        return reader.Frames().Take(frames).ToList();
    }

    /// <summary>Frames written losslessly (FFV1) so the engine sees exactly what the test compares against.</summary>
    public static VideoSource Write(string path, IReadOnlyList<Mat> frames)
    {
        var dir = Path.GetDirectoryName(path)!;
        for (var i = 0; i < frames.Count; i++) Cv2.ImWrite(Path.Combine(dir, $"in{i:D4}.png"), frames[i]);
        TestData.Ffmpeg("-framerate", "25", "-i", Path.Combine(dir, "in%04d.png"), "-c:v", "ffv1", "-pix_fmt", "bgr0", path);
        return new VideoSource(Tools, path, frames[0].Width, frames[0].Height, new FrameRate(25, 1), frames.Count);
    }

    public static List<Mat> ReadAll(VideoSource video)
    {
        using var reader = video.OpenReader();
        return reader.Frames().ToList();
    }

    /// <summary>A DAVIS element cut out with its ground-truth mask as alpha (BGRA, cropped to the element).</summary>
    public static Mat Cutout(string sequence, int frame)
    {
        using var bgr = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "frames", $"{frame:D5}.jpg"));
        using var mask = Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "masks", $"{frame:D5}.png"), ImreadModes.Grayscale);
        Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
        var box = Cv2.BoundingRect(mask);
        using var full = new Mat();
        var parts = bgr.Split();
        Cv2.Merge([parts[0], parts[1], parts[2], mask], full);
        foreach (var p in parts) p.Dispose();
        using var roi = full[box];
        return roi.Clone();
    }

    public static double PsnrInside(Mat a, Mat b, Mat mask)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var f = new Mat();
        diff.ConvertTo(f, MatType.CV_32FC3);
        using var sq = f.Mul(f).ToMat();
        var m = Cv2.Mean(sq, mask);
        var mse = (m.Val0 + m.Val1 + m.Val2) / 3;
        return mse < 1e-9 ? 99 : 10 * Math.Log10(255.0 * 255 / mse);
    }
}
