using OpenCvSharp;
using Roto.Media;
using Roto.Vision;

namespace Roto.Bench.Editing;

/// <summary>
/// A DAVIS element pasted (with its ground-truth mask) onto frames of another real clip: the clip without it is
/// the truth a remover should give back.
/// </summary>
public sealed class Composite : IDisposable
{
    public required string Name { get; init; }
    public required List<Mat> Frames { get; init; }
    public required List<Mat> Truth { get; init; }
    /// <summary>Ground-truth element masks, 0/255.</summary>
    public required List<Mat> Masks { get; init; }

    public static Composite Build(MediaTools tools, string davisDir, string clipPath, int maxFrames)
    {
        var frameFiles = Directory.GetFiles(Path.Combine(davisDir, "frames"), "*.jpg").Order().Take(maxFrames).ToList();
        var maskFiles = Directory.GetFiles(Path.Combine(davisDir, "masks"), "*.png").Order().Take(frameFiles.Count).ToList();
        using var first = Cv2.ImRead(frameFiles[0]);
        var size = first.Size();
        var frames = new List<Mat>();
        var truth = new List<Mat>();
        var masks = new List<Mat>();
        using var reader = new VideoFrameReader(tools, clipPath, size.Width, size.Height);
        for (var i = 0; i < frameFiles.Count; i++)
        {
            var bg = reader.ReadFrame() ?? throw new InvalidOperationException($"{clipPath} is shorter than {frameFiles.Count} frames");
            using var fg = Cv2.ImRead(frameFiles[i]);
            using var rawMask = Cv2.ImRead(maskFiles[i], ImreadModes.Grayscale);
            var mask = new Mat();
            Cv2.Threshold(rawMask, mask, 127, 255, ThresholdTypes.Binary);
            // A slightly soft paste edge, as a real element's boundary is.
            using var alpha = new Mat();
            mask.ConvertTo(alpha, MatType.CV_32FC1, 1 / 255.0);
            Cv2.GaussianBlur(alpha, alpha, new Size(3, 3), 0);
            var comp = bg.Clone();
            AlphaBlend.Into(comp, fg, alpha);
            frames.Add(comp);
            truth.Add(bg);
            masks.Add(mask);
        }
        return new Composite { Name = $"{Path.GetFileName(davisDir)}→{Path.GetFileNameWithoutExtension(clipPath)}", Frames = frames, Truth = truth, Masks = masks };
    }

    public void Dispose()
    {
        foreach (var m in Frames.Concat(Truth).Concat(Masks)) m.Dispose();
    }
}
