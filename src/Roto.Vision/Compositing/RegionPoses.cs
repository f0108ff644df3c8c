using OpenCvSharp;

namespace Roto.Vision.Compositing;

/// <summary>Where a tracked region is on one frame: its box, centre and principal-axis angle (radians, image axes).</summary>
public readonly record struct RegionPose(Rect Box, Point2d Centre, double Width, double Height, double Angle);

/// <summary>Measures a tracked region on every frame and smooths it over time, so what follows it does not jitter.</summary>
public static class RegionPoses
{
    /// <summary>Raw per-frame poses; null where the region is absent.</summary>
    public static RegionPose?[] Measure(IMaskTrack track)
    {
        var poses = new RegionPose?[track.FrameCount];
        double? lastAngle = null;
        for (var i = 0; i < track.FrameCount; i++)
        {
            using var mask = track.UnionMask(i);
            var box = Cv2.BoundingRect(mask);
            if (box.Width < 2 || box.Height < 2) continue;
            var m = Cv2.Moments(mask, true);
            var mu20 = m.Mu20 / m.M00;
            var mu02 = m.Mu02 / m.M00;
            var mu11 = m.Mu11 / m.M00;
            var angle = 0.5 * Math.Atan2(2 * mu11, mu20 - mu02);
            // The axis of a round region is noise: keep the last one. An axis has no direction, so
            // choose the representative (±π) nearest the previous frame's to keep the angle continuous.
            var spread = Math.Sqrt((mu20 - mu02) * (mu20 - mu02) + 4 * mu11 * mu11) / Math.Max(1e-9, mu20 + mu02);
            if (spread < 0.15 && lastAngle is { } keep) angle = keep;
            else if (lastAngle is { } prev)
                while (Math.Abs(angle - prev) > Math.PI / 2) angle += angle < prev ? Math.PI : -Math.PI;
            lastAngle = angle;
            poses[i] = new RegionPose(box, new Point2d(box.X + box.Width / 2.0, box.Y + box.Height / 2.0), box.Width, box.Height, angle);
        }
        return poses;
    }

    /// <summary>Gaussian-weighted average over nearby frames where the region is present (σ = <paramref name="sigma"/> frames).</summary>
    public static RegionPose?[] Smooth(RegionPose?[] raw, double sigma = 2.0)
    {
        var radius = (int)Math.Ceiling(2.5 * sigma);
        var result = new RegionPose?[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] is not { } self) continue;
            double sw = 0, cx = 0, cy = 0, w = 0, h = 0, a = 0;
            for (var j = Math.Max(0, i - radius); j <= Math.Min(raw.Length - 1, i + radius); j++)
            {
                if (raw[j] is not { } p) continue;
                var wt = Math.Exp(-0.5 * (j - i) * (j - i) / (sigma * sigma));
                sw += wt;
                cx += wt * p.Centre.X;
                cy += wt * p.Centre.Y;
                w += wt * p.Width;
                h += wt * p.Height;
                a += wt * p.Angle;
            }
            result[i] = self with { Centre = new Point2d(cx / sw, cy / sw), Width = w / sw, Height = h / sw, Angle = a / sw };
        }
        return result;
    }
}
