using OpenCvSharp;
using Roto.Media;

using Roto.Vision;

namespace Roto.Baselines;

/// <summary>
/// Places subjects with their alpha: for swap, fitted into the tracked element's (smoothed) box on each
/// removed frame; for addition, at the anchor, scaled to a fraction of the frame height.
/// </summary>
public sealed class AlphaCompositor : IElementCompositor
{
    public void Swap(VideoSource video, IMaskTrack track, Subject subject, IElementRemover remover, OutputFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct)
    {
        var boxes = SmoothedBoxes(track);
        remover.Remove(video, track, (i, frame) =>
        {
            if (boxes[i] is { } box) PasteFitted(frame, subject.Bgra, box);
            onFrame(i, frame);
        }, progress, ct);
    }

    public void Add(VideoSource video, IMaskTrack? track, IReadOnlyList<Subject> subjects, Placement? placement, OutputFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct)
    {
        var anchors = Anchors(video, track, subjects.Count, placement);
        using var reader = video.OpenReader();
        using var frame = new Mat(video.Height, video.Width, MatType.CV_8UC3);
        for (var i = 0; i < video.FrameCount && reader.ReadInto(frame); i++)
        {
            ct.ThrowIfCancellationRequested();
            for (var s = 0; s < subjects.Count; s++) PasteFitted(frame, subjects[s].Bgra, anchors[s]);
            onFrame(i, frame);
            progress?.Report((i + 1.0) / video.FrameCount);
        }
    }

    /// <summary>The box each subject stands in: the tracked region on its first frame, else the placement or a default spot.</summary>
    public static Rect[] Anchors(VideoSource video, IMaskTrack? track, int count, Placement? placement)
    {
        var result = new Rect[count];
        Rect? tracked = null;
        if (track != null)
            for (var i = 0; i < track.FrameCount && tracked == null; i++)
            {
                using var m = track.UnionMask(i);
                var r = Cv2.BoundingRect(m);
                if (r.Width > 0 && r.Height > 0) tracked = r;
            }
        for (var s = 0; s < count; s++)
        {
            if (tracked is { } t && placement == null)
            {
                result[s] = t;
                continue;
            }
            var p = placement ?? new Placement(count == 1 ? 0.5 : 0.3 + 0.4 * s, 0.6, 0.35);
            var side = (int)Math.Round(Math.Clamp(p.Scale, 0.02, 1.0) * video.Height);
            var cx = (int)Math.Round(p.X * video.Width) + (placement != null && count > 1 ? (s - (count - 1) / 2.0) * side : 0);
            var cy = (int)Math.Round(p.Y * video.Height);
            result[s] = new Rect((int)(cx - side / 2.0), cy - side / 2, side, side);
        }
        return result;
    }

    /// <summary>The tracked region's box on every frame, smoothed over a few frames so the subject does not jitter.</summary>
    public static Rect?[] SmoothedBoxes(IMaskTrack track)
    {
        var raw = new Rect?[track.FrameCount];
        for (var i = 0; i < track.FrameCount; i++)
        {
            using var m = track.UnionMask(i);
            var r = Cv2.BoundingRect(m);
            raw[i] = r.Width > 0 && r.Height > 0 ? r : null;
        }
        var smoothed = new Rect?[raw.Length];
        const int radius = 2;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == null) continue;
            var near = Enumerable.Range(i - radius, 2 * radius + 1).Where(j => j >= 0 && j < raw.Length && raw[j] != null).Select(j => raw[j]!.Value).ToList();
            var cx = near.Average(r => r.X + r.Width / 2.0);
            var cy = near.Average(r => r.Y + r.Height / 2.0);
            var w = near.Average(r => (double)r.Width);
            var h = near.Average(r => (double)r.Height);
            // Never outside the frame's own box: the subject stays inside the tracked region.
            var box = new Rect((int)Math.Round(cx - w / 2), (int)Math.Round(cy - h / 2), (int)Math.Round(w), (int)Math.Round(h));
            smoothed[i] = box & raw[i]!.Value;
        }
        return smoothed;
    }

    /// <summary>Scales the subject to fit the box (aspect kept, bottom-centred) and blends it by its alpha.</summary>
    public static void PasteFitted(Mat frame, Mat bgra, Rect box)
    {
        if (box.Width < 2 || box.Height < 2) return;
        var scale = Math.Min((double)box.Width / bgra.Width, (double)box.Height / bgra.Height);
        var size = new Size(Math.Max(1, (int)(bgra.Width * scale)), Math.Max(1, (int)(bgra.Height * scale)));
        var target = new Rect(box.X + (box.Width - size.Width) / 2, box.Y + box.Height - size.Height, size.Width, size.Height);
        var visible = target & new Rect(0, 0, frame.Width, frame.Height);
        if (visible.Width <= 0 || visible.Height <= 0) return;

        using var scaled = new Mat();
        Cv2.Resize(bgra, scaled, size, 0, 0, InterpolationFlags.Area);
        using var part = scaled[new Rect(visible.X - target.X, visible.Y - target.Y, visible.Width, visible.Height)];
        var channels = part.Split();
        try
        {
            using var colour = new Mat();
            Cv2.Merge([channels[0], channels[1], channels[2]], colour);
            using var alpha = new Mat();
            channels[3].ConvertTo(alpha, MatType.CV_32FC1, 1 / 255.0);
            using var roi = frame[visible];
            AlphaBlend.Into(roi, colour, alpha);
        }
        finally
        {
            foreach (var c in channels) c.Dispose();
        }
    }
}
