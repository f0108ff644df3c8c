using OpenCvSharp;
using Roto.Media;

namespace Roto.Vision.Removal;

/// <summary>
/// The background's motion through a video as one homography per consecutive frame pair (full-resolution
/// coordinates), so a scene point seen in one frame can be found in any other.
/// </summary>
public sealed class CameraPath
{
    private readonly Homography[] _steps;
    private readonly Homography[] _toFirst;

    /// <param name="steps">steps[i] maps frame i to frame i+1.</param>
    public CameraPath(IReadOnlyList<Homography> steps)
    {
        _steps = [.. steps];
        _toFirst = new Homography[_steps.Length + 1];
        _toFirst[0] = Homography.Identity;
        for (var i = 0; i < _steps.Length; i++) _toFirst[i + 1] = _toFirst[i].After(_steps[i].Inverse());
    }

    public int FrameCount => _toFirst.Length;

    /// <summary>Maps points of frame <paramref name="from"/> to where the same scene points are in frame <paramref name="to"/>.</summary>
    public Homography Map(int from, int to)
    {
        if (from == to) return Homography.Identity;
        // Short hops are chained step by step (exact); long ones go through frame 0.
        if (Math.Abs(to - from) <= 64)
        {
            var h = Homography.Identity;
            if (from < to)
                for (var i = from; i < to; i++) h = _steps[i].After(h);
            else
                for (var i = from - 1; i >= to; i--) h = _steps[i].Inverse().After(h);
            return h;
        }
        return _toFirst[to].Inverse().After(_toFirst[from]);
    }

    /// <summary>
    /// Estimates the path on a downscaled grey copy: corners tracked with pyramidal Lucas–Kanade from each frame to
    /// the next, points on or near the tracked elements left out, and a RANSAC homography fitted to the rest.
    /// </summary>
    public static CameraPath Estimate(VideoSource video, IMaskTrack? track, IProgress<double>? progress, CancellationToken ct)
    {
        var scale = Math.Min(1.0, 480.0 / Math.Max(video.Width, video.Height));
        var w = Math.Max(16, (int)Math.Round(video.Width * scale / 2) * 2);
        var h = Math.Max(16, (int)Math.Round(video.Height * scale / 2) * 2);
        var factor = (double)video.Width / w;
        using var reader = video.OpenReader(w, h, gray: true);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(9, 9));
        var steps = new List<Homography>();
        Mat? prev = null;
        Mat? prevKeep = null;
        try
        {
            for (var i = 0; i < video.FrameCount; i++)
            {
                ct.ThrowIfCancellationRequested();
                var frame = new Mat(h, w, MatType.CV_8UC1);
                if (!reader.ReadInto(frame))
                {
                    frame.Dispose();
                    break;
                }
                var keep = BackgroundMask(track, i, w, h, kernel);
                if (prev != null) steps.Add(EstimateStep(prev, prevKeep!, frame, keep, w, h).Rescaled(factor));
                prev?.Dispose();
                prevKeep?.Dispose();
                prev = frame;
                prevKeep = keep;
                progress?.Report((i + 1.0) / video.FrameCount);
            }
        }
        finally
        {
            prev?.Dispose();
            prevKeep?.Dispose();
        }
        return new CameraPath(steps);
    }

    /// <summary>255 where the background can be trusted for motion: away from every tracked element.</summary>
    private static Mat BackgroundMask(IMaskTrack? track, int index, int w, int h, Mat kernel)
    {
        var keep = new Mat(h, w, MatType.CV_8UC1, Scalar.All(255));
        if (track == null || index >= track.FrameCount) return keep;
        using var full = track.UnionMask(index);
        using var small = new Mat();
        Cv2.Resize(full, small, new Size(w, h), 0, 0, InterpolationFlags.Linear);
        Cv2.Dilate(small, small, kernel);
        keep.SetTo(Scalar.All(0), small);
        return keep;
    }

    private static Homography EstimateStep(Mat prev, Mat prevKeep, Mat next, Mat nextKeep, int w, int h)
    {
        var corners = Cv2.GoodFeaturesToTrack(prev, 500, 0.005, Math.Max(4, w / 80.0), prevKeep, 5, false, 0.04);
        if (corners.Length < 12) return Homography.Identity;
        var tracked = Array.Empty<Point2f>();
        Cv2.CalcOpticalFlowPyrLK(prev, next, corners, ref tracked, out var status, out _, new Size(21, 21), 3);
        var src = new List<Point2d>();
        var dst = new List<Point2d>();
        for (var k = 0; k < corners.Length; k++)
        {
            if (status[k] == 0) continue;
            var p = tracked[k];
            var x = (int)p.X;
            var y = (int)p.Y;
            if (x < 0 || y < 0 || x >= w || y >= h || nextKeep.At<byte>(y, x) == 0) continue;
            src.Add(new Point2d(corners[k].X, corners[k].Y));
            dst.Add(new Point2d(p.X, p.Y));
        }
        if (src.Count < 12) return Homography.Identity;
        using var inliers = new Mat();
        using var hm = Cv2.FindHomography(src, dst, HomographyMethods.Ransac, 1.5, inliers);
        if (hm.Empty() || Cv2.CountNonZero(inliers) < Math.Max(10, src.Count / 5)) return AffineFallback(src, dst);
        var step = Homography.FromMat(hm);
        // A camera does not jump by a third of the frame between two frames: such a fit is wrong.
        return step.MaxCornerShift(w, h) > Math.Max(w, h) / 3.0 ? AffineFallback(src, dst) : step;
    }

    private static Homography AffineFallback(List<Point2d> src, List<Point2d> dst)
    {
        using var s = Mat.FromPixelData(src.Count, 1, MatType.CV_64FC2, src.ToArray());
        using var d = Mat.FromPixelData(dst.Count, 1, MatType.CV_64FC2, dst.ToArray());
        using var affine = Cv2.EstimateAffinePartial2D(s, d);
        return affine == null || affine.Empty() ? Homography.Identity : Homography.FromMat(affine);
    }
}
