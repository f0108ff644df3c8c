using System.Diagnostics;
using OpenCvSharp;
using Roto.Media;

namespace Roto.Vision.Removal;

/// <summary>
/// Video completion guided by the background's motion: every hole pixel is taken from the nearest frame (in time)
/// where the same scene point is visible, aligned by the camera path; what no frame within reach shows is
/// inpainted on keyframes and carried along the path; the seam is feathered. Stateless between calls: one
/// instance may serve concurrent tasks.
/// </summary>
public sealed class FlowGuidedRemover : IElementRemover
{
    /// <summary>How many frames before and after may lend pixels, at most.</summary>
    public int MaxRadius { get; init; } = DefaultMaxRadius;

    /// <summary>The removal bench at trust 30, true masks: 10 frames → 20.94 dB, 20 → 21.98, 30 → 22.59, 45 → 22.64; past 30 the window's memory and time grow for little.</summary>
    public const int DefaultMaxRadius = 30;

    /// <summary>Bytes the window of decoded frames may hold; bounds the radius for large videos.</summary>
    public long WindowBudgetBytes { get; init; } = 640L << 20;

    /// <summary>
    /// Corrects each borrowed patch by the residual flow completed from the hole's surroundings (see <see cref="ResidualFlow"/>).
    /// Off by default: on the removal benchmark it lowered PSNR inside the region (dance-twirl on 01_dog, 30 frames:
    /// 21.85 → 18.74 dB) and tripled the time, as Farneback's window on the thin band also sees the element's motion.
    /// </summary>
    public bool AlignLocally { get; init; }

    /// <summary>
    /// Mean grey-level disagreement (0–255) on the band around the hole above which a source is not used there. The
    /// removal bench with the true masks (six composites, region PSNR): 10 → 21.82 dB, 20 → 22.37, 30 → 22.59,
    /// 40 → 22.58, 60 → 22.40 (2026-12-06): stricter turns down sources that differ only by exposure or noise, looser takes sources where the
    /// scene itself moved.
    /// </summary>
    public double TrustThreshold { get; init; } = DefaultTrustThreshold;

    public const double DefaultTrustThreshold = 30;

    /// <summary>
    /// Mean grey-level change of the hole's surroundings since the last inpainted keyframe above which what no frame
    /// shows is inpainted afresh instead of carried (see <see cref="CarriedInpaint"/>).
    /// </summary>
    public double StaleAfter { get; init; } = CarriedInpaint.DefaultStaleAfter;

    /// <summary>
    /// Frames whose holes are filled from their neighbours at the same time (one per core by default). Borrowing is
    /// independent per frame; only the carried inpainting and the output run in order.
    /// </summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Receives the time spent per stage when set (benchmark profiles).</summary>
    public RemovalTimings? Timings { get; init; }

    public void Remove(VideoSource video, IMaskTrack track, OutputFrameHandler onFrame, IProgress<double>? progress, CancellationToken ct)
    {
        var motionProgress = progress == null ? null : new Progress<double>(p => progress.Report(0.25 * p));
        var clock = Timings?.Start() ?? 0;
        var path = CameraPath.Estimate(video, track, motionProgress, ct);
        Timings?.Stop("camera path", clock);

        var holeRadius = HoleRadius(video.Width, video.Height);
        var frameBytes = (long)video.Width * video.Height * 4;
        var batch = Math.Max(1, Parallelism);
        var radius = (int)Math.Clamp(WindowBudgetBytes / (2 * frameBytes) - batch, 2, MaxRadius);
        using var window = new FrameWindow(video, track, radius, holeRadius);
        using var carried = new CarriedInpaint(StaleAfter);
        var completer = new HoleCompleter(path, window, carried, Math.Max(2, holeRadius * 3 / 4))
        {
            AlignLocally = AlignLocally,
            TrustThreshold = TrustThreshold,
            Timings = Timings,
        };
        using var output = new Mat(video.Height, video.Width, MatType.CV_8UC3);
        var borrowed = new Borrowed?[batch];
        for (var first = 0; first < video.FrameCount; first += batch)
        {
            ct.ThrowIfCancellationRequested();
            var last = Math.Min(video.FrameCount, first + batch) - 1;
            clock = Timings?.Start() ?? 0;
            window.MoveTo(first, last);
            Timings?.Stop("decode + holes", clock);
            Parallel.For(first, last + 1, new ParallelOptions { MaxDegreeOfParallelism = batch, CancellationToken = ct }, t =>
            {
                if (window.Get(t) is { HasHole: true } frame) borrowed[t - first] = completer.Borrow(frame);
            });
            try
            {
                for (var t = first; t <= last; t++)
                {
                    if (window.Get(t) is not { } current) return;
                    clock = Timings?.Start() ?? 0;
                    // The window's frames stay untouched: later frames borrow from them, and the caller may draw on what it gets.
                    current.Frame.CopyTo(output);
                    if (borrowed[t - first] is { } b) completer.Finish(current, b, output);
                    clock = Timings?.Stop("carried fill + blend", clock) ?? 0;
                    onFrame(t, output);
                    Timings?.Stop("output", clock);
                    progress?.Report(0.25 + 0.75 * (t + 1.0) / video.FrameCount);
                }
            }
            finally
            {
                for (var i = 0; i < borrowed.Length; i++)
                {
                    borrowed[i]?.Dispose();
                    borrowed[i] = null;
                }
            }
        }
    }

    /// <summary>How far the element's mask is grown: covers soft edges, motion blur and small tracking errors.</summary>
    public static int HoleRadius(int width, int height) => Math.Max(3, (int)Math.Round(Math.Min(width, height) * 0.013));
}

/// <summary>What the neighbours gave one frame's hole: the fill so far and what is still missing, in the hole's box.</summary>
internal sealed class Borrowed(Rect box, Mat hole, Mat fill, Mat remaining, int missing) : IDisposable
{
    public Rect Box { get; } = box;
    public Mat Hole { get; } = hole;
    public Mat Fill { get; } = fill;
    public Mat Remaining { get; } = remaining;
    public int Missing { get; } = missing;

    public void Dispose()
    {
        Hole.Dispose();
        Fill.Dispose();
        Remaining.Dispose();
    }
}

/// <summary>Completes the hole of one frame from its neighbours in the window (see <see cref="FlowGuidedRemover"/>).</summary>
internal sealed class HoleCompleter(CameraPath path, FrameWindow window, CarriedInpaint carried, int feather)
{
    /// <summary>
    /// Scale at which a source is checked against the target (exposure, trust): the disagreement field is smooth by
    /// construction, so it is measured on a quarter-size sampling and only the pixels finally taken are warped at full size.
    /// </summary>
    private const double CheckScale = 0.25;

    public bool AlignLocally { get; init; }
    public double TrustThreshold { get; init; } = FlowGuidedRemover.DefaultTrustThreshold;
    public RemovalTimings? Timings { get; init; }

    /// <summary>Fills what the neighbours show of the target's hole; safe to call for several targets at once.</summary>
    public Borrowed Borrow(WindowFrame target)
    {
        var clock = Timings?.Start() ?? 0;
        var frame = target.Frame;
        var pad = feather + 2;
        var box = new Rect(target.HoleBox.X - pad, target.HoleBox.Y - pad, target.HoleBox.Width + 2 * pad, target.HoleBox.Height + 2 * pad)
                  & new Rect(0, 0, frame.Width, frame.Height);
        var hole = target.Hole[box].Clone();
        var remaining = hole.Clone();
        var fill = new Mat(box.Size, MatType.CV_8UC3, Scalar.All(0));
        using var ring = Ring(hole);
        using var here = frame[box];
        var check = new Target(frame, box, ring);
        Timings?.Stop("borrow: set up", clock);
        try
        {
            var toGo = Cv2.CountNonZero(remaining);
            foreach (var d in Distances(window.Radius))
            {
                if (toGo == 0) break;
                foreach (var s in (int[])[target.Index - d, target.Index + d])
                {
                    if (toGo == 0 || window.Get(s) is not { } source) continue;
                    toGo = TakeFrom(source, target.Index, box, here, ring, check, fill, remaining);
                }
            }
            return new Borrowed(box, hole, fill, remaining, toGo);
        }
        finally
        {
            check.Dispose();
        }
    }

    /// <summary>Completes what borrowing left (in frame order: the carried inpainting keeps state) and blends the fill in.</summary>
    /// <param name="output">Receives the completed frame; holds a copy of the target's frame on entry.</param>
    public void Finish(WindowFrame target, Borrowed borrowed, Mat output)
    {
        var clock = Timings?.Start() ?? 0;
        if (borrowed.Missing > 0) carried.Complete(target.Index, target.Frame, borrowed.Box, borrowed.Hole, borrowed.Fill, borrowed.Remaining, path);
        clock = Timings?.Stop("  carried inpaint", clock) ?? 0;
        using var here = output[borrowed.Box];
        Blend(here, borrowed.Fill, borrowed.Hole);
        Timings?.Stop("  blend", clock);
    }

    /// <summary>
    /// Time offsets to borrow from, nearest first: every frame close by, then sparser (a scene point hidden in
    /// frame t+20 is nearly always hidden in t+21 too, so testing every far frame buys little for its cost).
    /// </summary>
    internal static IEnumerable<int> Distances(int radius)
    {
        var d = 1;
        while (d <= radius)
        {
            yield return d;
            d += d < 4 ? 1 : d / 3;
        }
    }

    /// <summary>The target's box sampled at <see cref="CheckScale"/>, with the band around its hole, for checking sources cheaply.</summary>
    private sealed class Target : IDisposable
    {
        public Target(Mat frame, Rect box, Mat ring)
        {
            Size = new Size(Math.Max(4, (int)Math.Round(box.Width * CheckScale)), Math.Max(4, (int)Math.Round(box.Height * CheckScale)));
            Scale = Homography.Scale((double)Size.Width / box.Width, (double)Size.Height / box.Height);
            // Point samples of the box, the same sampling a source's warp below uses, so aligned pixels compare equal.
            using var toSmall = Scale.After(Homography.Translation(-box.X, -box.Y)).ToMat();
            Cv2.WarpPerspective(frame, Here, toSmall, Size, InterpolationFlags.Linear, BorderTypes.Replicate);
            Cv2.Resize(ring, Ring, Size, 0, 0, InterpolationFlags.Area);
        }

        public Size Size { get; }
        /// <summary>From box coordinates to check coordinates.</summary>
        public Homography Scale { get; }
        public Mat Here { get; } = new();
        public Mat Ring { get; } = new();

        public void Dispose()
        {
            Here.Dispose();
            Ring.Dispose();
        }
    }

    /// <summary>Copies the source's visible background into the still-missing pixels; returns how many are still missing.</summary>
    private int TakeFrom(WindowFrame source, int targetIndex, Rect box, Mat here, Mat ring, Target check, Mat fill, Mat remaining)
    {
        var clock = Timings?.Start() ?? 0;
        var sourceToBox = Homography.Translation(-box.X, -box.Y).After(path.Map(source.Index, targetIndex));
        using var toBox = sourceToBox.ToMat();
        using var blocked = new Mat();
        // Outside the source frame counts as blocked (border 255).
        Cv2.WarpPerspective(source.Hole, blocked, toBox, box.Size, InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.All(255));
        using var usable = new Mat();
        Cv2.Compare(blocked, Scalar.All(0), usable, CmpTypes.EQ);
        using var take = new Mat();
        Cv2.BitwiseAnd(usable, remaining, take);
        var nothing = Cv2.CountNonZero(take) == 0;
        clock = Timings?.Stop("borrow: hole warps", clock) ?? 0;
        if (nothing) return Cv2.CountNonZero(remaining);

        using var band = new Mat();
        Cv2.BitwiseAnd(ring, usable, band);
        var bandPixels = Cv2.CountNonZero(band);
        using var warpedSmall = new Mat();
        using (var toSmall = check.Scale.After(sourceToBox).ToMat())
            Cv2.WarpPerspective(source.Frame, warpedSmall, toSmall, check.Size, InterpolationFlags.Linear, BorderTypes.Replicate);
        using var bandSmall = new Mat();
        Cv2.Resize(band, bandSmall, check.Size, 0, 0, InterpolationFlags.Area);
        var shift = bandPixels < 30 ? Scalar.All(0) : ExposureShift(check.Here, warpedSmall, bandSmall);
        Cv2.Add(warpedSmall, shift, warpedSmall);

        if (bandPixels >= 30)
        {
            using var trusted = Trusted(check.Here, warpedSmall, bandSmall, box.Size);
            Cv2.BitwiseAnd(take, trusted, take);
        }
        var taken = Cv2.BoundingRect(take);
        clock = Timings?.Stop("borrow: checks", clock) ?? 0;
        if (taken.Width == 0 || taken.Height == 0) return Cv2.CountNonZero(remaining);

        // Only the part of the box that is taken is warped at full size.
        using var warped = new Mat();
        using (var toTaken = Homography.Translation(-taken.X, -taken.Y).After(sourceToBox).ToMat())
            Cv2.WarpPerspective(source.Frame, warped, toTaken, taken.Size, InterpolationFlags.Linear, BorderTypes.Replicate);
        Cv2.Add(warped, shift, warped);
        if (AlignLocally)
        {
            // Residual flow needs the whole box: the band lies around the hole, not in the taken part.
            using var whole = new Mat();
            Cv2.WarpPerspective(source.Frame, whole, toBox, box.Size, InterpolationFlags.Linear, BorderTypes.Replicate);
            Cv2.Add(whole, shift, whole);
            using var aligned = ResidualFlow.Align(here, whole, band);
            if (aligned != null)
                using (var part = aligned[taken]) part.CopyTo(warped);
        }
        using (var fillPart = fill[taken])
        using (var takePart = take[taken])
            warped.CopyTo(fillPart, takePart);
        remaining.SetTo(Scalar.All(0), take);
        var left = Cv2.CountNonZero(remaining);
        Timings?.Stop("borrow: copy", clock);
        return left;
    }

    /// <summary>
    /// The mean colour difference on the band just outside the hole, where both the target and the source show
    /// background: exposure and white balance drift between frames.
    /// </summary>
    private static Scalar ExposureShift(Mat here, Mat warped, Mat bandWeights)
    {
        using var band = new Mat();
        Cv2.Threshold(bandWeights, band, 0, 255, ThresholdTypes.Binary);
        if (Cv2.CountNonZero(band) < 4) return Scalar.All(0);
        var want = Cv2.Mean(here, band);
        var have = Cv2.Mean(warped, band);
        return new Scalar(
            Math.Clamp(want.Val0 - have.Val0, -30, 30), Math.Clamp(want.Val1 - have.Val1, -30, 30), Math.Clamp(want.Val2 - have.Val2, -30, 30));
    }

    /// <summary>
    /// Where the source can be trusted inside the hole (255, at <paramref name="boxSize"/>): the disagreement between
    /// target and source on the band around the hole, spread inward by normalised convolution. Where the background
    /// itself moves (a person walking behind the element, water, a scene cut) the band disagrees and those pixels are
    /// left for a nearer frame or for inpainting instead of pasting a ghost from another moment.
    /// </summary>
    private Mat Trusted(Mat hereSmall, Mat warpedSmall, Mat bandWeights, Size boxSize)
    {
        using var diff = new Mat();
        Cv2.Absdiff(hereSmall, warpedSmall, diff);
        using var grey = new Mat();
        Cv2.CvtColor(diff, grey, ColorConversionCodes.BGR2GRAY);
        using var err = new Mat();
        using var weight = new Mat();
        grey.ConvertTo(err, MatType.CV_32FC1);
        bandWeights.ConvertTo(weight, MatType.CV_32FC1, 1 / 255.0);
        Cv2.Multiply(err, weight, err);
        // The spread is wide (a sixth of the box), so it is done on a grid of at most SpreadGrid cells across:
        // a Gaussian of that width over the check image would cost more than all the warps of a source.
        var factor = Math.Min(1.0, SpreadGrid / Math.Max(err.Width, err.Height));
        var grid = new Size(Math.Max(2, (int)Math.Round(err.Width * factor)), Math.Max(2, (int)Math.Round(err.Height * factor)));
        using var errGrid = new Mat();
        using var weightGrid = new Mat();
        Cv2.Resize(err, errGrid, grid, 0, 0, InterpolationFlags.Area);
        Cv2.Resize(weight, weightGrid, grid, 0, 0, InterpolationFlags.Area);
        var sigma = Math.Max(1, Math.Max(grid.Width, grid.Height) / 6.0);
        Cv2.GaussianBlur(errGrid, errGrid, new Size(0, 0), sigma);
        Cv2.GaussianBlur(weightGrid, weightGrid, new Size(0, 0), sigma);
        Cv2.Add(weightGrid, Scalar.All(1e-4), weightGrid);
        Cv2.Divide(errGrid, weightGrid, errGrid);
        using var errBox = new Mat();
        Cv2.Resize(errGrid, errBox, boxSize, 0, 0, InterpolationFlags.Linear);
        Cv2.Threshold(errBox, errBox, TrustThreshold, 255, ThresholdTypes.BinaryInv);
        var trusted = new Mat();
        errBox.ConvertTo(trusted, MatType.CV_8UC1);
        return trusted;
    }

    /// <summary>Cells across the grid on which the trust field is spread.</summary>
    private const double SpreadGrid = 48;

    /// <summary>A band around the hole, outside it, where the target's own background is known.</summary>
    private Mat Ring(Mat hole)
    {
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * feather + 1, 2 * feather + 1));
        var grown = new Mat();
        Cv2.Dilate(hole, grown, kernel);
        Cv2.Subtract(grown, hole, grown);
        return grown;
    }

    /// <summary>Feathers the fill into the frame over the outer part of the hole (which is grown past the element).</summary>
    private void Blend(Mat here, Mat fill, Mat hole)
    {
        using var dist = new Mat();
        Cv2.DistanceTransform(hole, dist, DistanceTypes.L2, DistanceTransformMasks.Mask3);
        using var alpha = new Mat();
        dist.ConvertTo(alpha, MatType.CV_32FC1, 1.0 / feather);
        Cv2.Min(alpha, Scalar.All(1.0), alpha);
        using var keep = new Mat();
        Cv2.Subtract(Scalar.All(1.0), alpha, keep);
        // BlendLinear works on the 8-bit pixels in one pass; the general AlphaBlend's float copies of the box cost
        // more than the whole fill on large holes, and both weigh the same.
        Cv2.BlendLinear(fill, here, alpha, keep, here);
    }
}
