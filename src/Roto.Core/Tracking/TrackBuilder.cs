using OpenCvSharp;
using Roto.Media;
using Roto.Vision;

namespace Roto.Core.Tracking;

/// <summary>Runs the propagator once over the video and keeps every frame's masks as RLE.</summary>
public sealed class TrackBuilder(IMaskPropagator propagator)
{
    /// <summary>Whether a preview's track is the one a task would compute, so a task may reuse it.</summary>
    public bool PreviewIsFull => propagator.PreviewIsFull;

    /// <param name="alsoOnFrame">Called with each frame and its masks while they are decoded (the preview renders here).</param>
    /// <param name="effort">Preview: answers in the request, corrections on key frames only; Full: the task's track.</param>
    public RleMaskTrack Build(VideoSource video, IReadOnlyList<Keyframe> keyframes, TrackedFrameHandler? alsoOnFrame,
        TrackingJsonWriter? json, IProgress<double>? progress, TrackingEffort effort, CancellationToken ct)
    {
        var frames = new IReadOnlyDictionary<int, string>[video.FrameCount];
        var seen = 0;
        propagator.Propagate(video, keyframes, (i, frame, masks) =>
        {
            var encoded = new Dictionary<int, string>();
            foreach (var (objectId, mask) in masks) encoded[objectId] = RleMaskTrack.Encode(mask);
            frames[i] = encoded;
            json?.WriteFrame(i, encoded);
            alsoOnFrame?.Invoke(i, frame, masks);
            seen++;
        }, progress, effort, ct);
        if (seen != video.FrameCount)
            throw new MediaException($"tracking produced {seen} of {video.FrameCount} frames");
        return new RleMaskTrack(video.Width, video.Height, frames);
    }
}
