using OpenCvSharp;
using Roto.Media;

using Roto.Vision;

namespace Roto.Baselines;

/// <summary>
/// Per-frame removal: the dilated mask is filled by Telea inpainting at half resolution and the
/// fill is pasted back into the hole only. The flow-guided remover replaces it.
/// </summary>
public sealed class TeleaRemover : IElementRemover
{
    public void Remove(VideoSource video, IMaskTrack track, OutputFrameHandler onFrame, IProgress<double>? progress, CancellationToken ct)
    {
        using var reader = video.OpenReader();
        using var frame = new Mat(video.Height, video.Width, MatType.CV_8UC3);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(15, 15));
        for (var i = 0; i < video.FrameCount && reader.ReadInto(frame); i++)
        {
            ct.ThrowIfCancellationRequested();
            using var mask = track.UnionMask(i);
            if (Cv2.CountNonZero(mask) > 0)
            {
                using var hole = new Mat();
                Cv2.Dilate(mask, hole, kernel);
                InpaintHalfSize(frame, hole);
            }
            onFrame(i, frame);
            progress?.Report((i + 1.0) / video.FrameCount);
        }
    }

    public static void InpaintHalfSize(Mat frame, Mat hole)
    {
        using var smallFrame = new Mat();
        using var smallHole = new Mat();
        var half = new Size(frame.Width / 2, frame.Height / 2);
        Cv2.Resize(frame, smallFrame, half, 0, 0, InterpolationFlags.Area);
        Cv2.Resize(hole, smallHole, half, 0, 0, InterpolationFlags.Nearest);
        Cv2.Dilate(smallHole, smallHole, null);
        using var filled = new Mat();
        Cv2.Inpaint(smallFrame, smallHole, filled, 5, InpaintTypes.Telea);
        using var up = new Mat();
        Cv2.Resize(filled, up, frame.Size(), 0, 0, InterpolationFlags.Linear);
        up.CopyTo(frame, hole);
    }
}
