using OpenCvSharp;
using Roto.Media;
using Roto.Vision.Removal;

namespace Roto.Vision.Compositing;

/// <summary>
/// Swap: the element is removed, then the subject is drawn where it was on every frame, following the region's
/// smoothed position, size and rotation. Addition: subjects are set into the scene at the marked region, the
/// placement or a default spot, and carried with the camera's motion so they stay put in the world.
/// </summary>
public sealed class SceneCompositor : IElementCompositor
{
    /// <summary>Default spot for added subjects: centred, feet a little below the middle, a third of the frame tall.</summary>
    public static readonly Placement DefaultPlacement = new(0.5, 0.62, 0.35);

    public void Swap(VideoSource video, IMaskTrack track, Subject subject, IElementRemover remover, OutputFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct)
    {
        var raw = RegionPoses.Measure(track);
        var poses = RegionPoses.Smooth(raw);
        var reference = Array.FindIndex(poses, p => p != null);
        using var painter = new SubjectPainter(subject);
        var referenceAngle = reference >= 0 ? poses[reference]!.Value.Angle : 0;
        var pad = FlowGuidedRemover.HoleRadius(video.Width, video.Height);
        Scalar? light = null;
        remover.Remove(video, track, (i, frame) =>
        {
            if (i < poses.Length && poses[i] is { } pose && raw[i] is { } now)
            {
                var toFrame = Fit(painter, pose, pose.Angle - referenceAngle);
                // The subject stays inside the element's own (grown) box: nothing outside the edited region changes.
                var clip = new Rect(now.Box.X - pad, now.Box.Y - pad, now.Box.Width + 2 * pad, now.Box.Height + 2 * pad);
                light = Blend(light, SubjectPainter.SceneLab(frame, Grow(now.Box, 0.5)));
                painter.Paint(frame, toFrame, light, clip);
            }
            onFrame(i, frame);
        }, progress, ct);
    }

    /// <summary>The transform that puts the subject, rotated by <paramref name="rotation"/>, as large as fits in the region's box.</summary>
    internal static Homography Fit(SubjectPainter painter, RegionPose pose, double rotation)
    {
        rotation = Math.Clamp(rotation, -Math.PI / 2, Math.PI / 2);
        double cos = Math.Abs(Math.Cos(rotation)), sin = Math.Abs(Math.Sin(rotation));
        var rotatedW = painter.Width * cos + painter.Height * sin;
        var rotatedH = painter.Width * sin + painter.Height * cos;
        var scale = Math.Min(pose.Width / rotatedW, pose.Height / rotatedH);
        var centre = new Point2d(painter.Width / 2.0, painter.Height / 2.0);
        return Homography.Similarity(scale, rotation, pose.Centre.X, pose.Centre.Y).After(Homography.Translation(-centre.X, -centre.Y));
    }

    public void Add(VideoSource video, IMaskTrack? track, IReadOnlyList<Subject> subjects, Placement? placement, OutputFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct)
    {
        var motionProgress = progress == null ? null : new Progress<double>(p => progress.Report(0.4 * p));
        var path = CameraPath.Estimate(video, track, motionProgress, ct);
        var painters = subjects.Select(s => new SubjectPainter(s)).ToList();
        try
        {
            var (anchorFrame, placed) = Anchor(video, track, painters, placement);
            var lights = new Scalar?[painters.Count];
            using var reader = video.OpenReader();
            using var frame = new Mat(video.Height, video.Width, MatType.CV_8UC3);
            for (var i = 0; i < video.FrameCount && reader.ReadInto(frame); i++)
            {
                ct.ThrowIfCancellationRequested();
                var withCamera = path.Map(anchorFrame, Math.Min(i, path.FrameCount - 1));
                for (var s = 0; s < painters.Count; s++)
                {
                    var toFrame = withCamera.After(placed[s]);
                    var footprint = painters[s].Footprint(toFrame, frame.Size());
                    if (footprint.Width < 2 || footprint.Height < 2) continue;
                    lights[s] = Blend(lights[s], SubjectPainter.SceneLab(frame, Grow(footprint, 0.5)));
                    painters[s].Paint(frame, toFrame, lights[s]);
                }
                onFrame(i, frame);
                progress?.Report(0.4 + 0.6 * (i + 1.0) / video.FrameCount);
            }
        }
        finally
        {
            foreach (var p in painters) p.Dispose();
        }
    }

    /// <summary>
    /// The frame the subjects are set on and, for each, the transform from its pixels to that frame. Side by side,
    /// feet on a common line: in the marked region's box when there is one and no placement, else at the placement
    /// (or the default spot) with the placement's scale as each subject's height.
    /// </summary>
    internal static (int Frame, Homography[] Placed) Anchor(VideoSource video, IMaskTrack? track, IReadOnlyList<SubjectPainter> painters, Placement? placement)
    {
        var gap = 0.05;
        if (placement == null && track != null)
            for (var i = 0; i < track.FrameCount; i++)
            {
                using var mask = track.UnionMask(i);
                var box = Cv2.BoundingRect(mask);
                if (box.Width < 2 || box.Height < 2) continue;
                // Each subject as tall as fits: the row's total width (with gaps) must fit the box too.
                var widthAtUnitHeight = painters.Sum(p => (double)p.Width / p.Height) + gap * (painters.Count - 1);
                var height = Math.Min(box.Height, box.Width / widthAtUnitHeight);
                return (i, Row(painters, box.X + box.Width / 2.0, box.Bottom, height, gap));
            }
        var p = placement ?? DefaultPlacement;
        var h = Math.Clamp(p.Scale, 0.02, 1.0) * video.Height;
        return (0, Row(painters, p.X * video.Width, p.Y * video.Height + h / 2, h, gap));
    }

    /// <summary>Subjects in a row centred on <paramref name="centreX"/>, bottoms on <paramref name="bottom"/>, each <paramref name="height"/> tall.</summary>
    private static Homography[] Row(IReadOnlyList<SubjectPainter> painters, double centreX, double bottom, double height, double gap)
    {
        var widths = painters.Select(p => p.Width * height / p.Height).ToArray();
        var total = widths.Sum() + gap * height * (painters.Count - 1);
        var x = centreX - total / 2;
        var result = new Homography[painters.Count];
        for (var s = 0; s < painters.Count; s++)
        {
            var scale = height / painters[s].Height;
            result[s] = Homography.Translation(x, bottom - height).After(Homography.Scale(scale));
            x += widths[s] + gap * height;
        }
        return result;
    }

    private static Rect Grow(Rect r, double fraction)
    {
        var dx = (int)(r.Width * fraction);
        var dy = (int)(r.Height * fraction);
        return new Rect(r.X - dx, r.Y - dy, r.Width + 2 * dx, r.Height + 2 * dy);
    }

    /// <summary>The scene's light followed slowly, so a passing shadow or a cut does not make the subject flicker.</summary>
    private static Scalar Blend(Scalar? previous, Scalar now) => previous is { } p
        ? new Scalar(0.9 * p.Val0 + 0.1 * now.Val0, 0.9 * p.Val1 + 0.1 * now.Val1, 0.9 * p.Val2 + 0.1 * now.Val2)
        : now;
}
