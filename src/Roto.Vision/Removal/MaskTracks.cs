using OpenCvSharp;

namespace Roto.Vision.Removal;

/// <summary>A mask track held in memory (tests, benchmarks, small videos); owns and disposes its masks.</summary>
public sealed class InMemoryMaskTrack(IReadOnlyList<Mat> masks) : IMaskTrack, IDisposable
{
    public int FrameCount => masks.Count;

    public Mat UnionMask(int frameIndex) => masks[frameIndex].Clone();

    public void Dispose()
    {
        foreach (var m in masks) m.Dispose();
    }
}

/// <summary>
/// A mask track read from one PNG per frame (non-zero = element), scaled to the video's size when it differs;
/// frames past the last file have no element.
/// </summary>
public sealed class PngMaskTrack(IReadOnlyList<string> files, int width, int height) : IMaskTrack
{
    public int FrameCount => files.Count;

    public Mat UnionMask(int frameIndex)
    {
        using var raw = Cv2.ImRead(files[frameIndex], ImreadModes.Grayscale);
        if (raw.Empty()) throw new InvalidOperationException($"mask {files[frameIndex]} could not be read");
        using var binary = new Mat();
        Cv2.Threshold(raw, binary, 0, 255, ThresholdTypes.Binary);
        var result = new Mat();
        if (binary.Width == width && binary.Height == height) binary.CopyTo(result);
        else Cv2.Resize(binary, result, new Size(width, height), 0, 0, InterpolationFlags.Nearest);
        return result;
    }
}
