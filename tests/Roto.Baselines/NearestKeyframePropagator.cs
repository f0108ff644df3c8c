using OpenCvSharp;
using Roto.Media;

using Roto.Vision;

namespace Roto.Baselines;

/// <summary>
/// The simplest honest tracker: every frame takes each element's mask from the nearest marked frame.
/// Right on still shots and near the marked frames; the flow-based propagator replaces it.
/// </summary>
public sealed class NearestKeyframePropagator : IMaskPropagator
{
    public void Propagate(VideoSource video, IReadOnlyList<Keyframe> keyframes, TrackedFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct)
    {
        var byObject = keyframes.GroupBy(k => k.ObjectId).ToDictionary(g => g.Key, g => g.OrderBy(k => k.FrameIndex).ToList());
        using var empty = new Mat(video.Height, video.Width, MatType.CV_8UC1, Scalar.All(0));
        using var reader = video.OpenReader();
        using var frame = new Mat(video.Height, video.Width, MatType.CV_8UC3);
        var masks = new Dictionary<int, Mat>();
        for (var i = 0; i < video.FrameCount && reader.ReadInto(frame); i++)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var (objectId, keys) in byObject)
                masks[objectId] = keys.Count == 0 ? empty : keys.MinBy(k => Math.Abs(k.FrameIndex - i))!.Mask;
            onFrame(i, frame, masks);
            progress?.Report((i + 1.0) / video.FrameCount);
        }
    }
}
