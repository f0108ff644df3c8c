using OpenCvSharp;
using OpenCvSharp.XImgProc;
using Roto.Vision.Features;

namespace Roto.Vision.Propagation;

/// <summary>
/// Carries one element's mask from a marked frame to its neighbours, one frame at a time in one direction. Without
/// features the previous probability is warped by dense optical flow (computed only around the element), fused with
/// the marked frame's colour model, snapped to image edges with a guided filter, and kept from leaking onto the
/// background by a local search window and an area guard. With features each frame takes its labels from the
/// marked frames and the last tracked frames by feature matching (<see cref="LabelMemory"/>).
/// </summary>
internal sealed class DirectionalTracker : IDisposable
{
    /// <summary>Flow is computed on at most this many pixels of the search window; larger windows are downscaled.</summary>
    private const int FlowMaxPixels = 160 * 120;
    /// <summary>Weight of the colour evidence against the motion prior (log-odds), chosen on the benchmark as a whole.</summary>
    private const float ColourWeight = 1.0f;

    /// <summary>Tracked frames the feature matching remembers besides the marked ones (davis16-dev `mask`, stage-2 features: 10 → 0.660, 20 → 0.666 in 1.3× the time).</summary>
    public const int RecentFrames = 10;

    /// <summary>The element counts as lost when its mask shrinks below this share of its area on the marked frame.</summary>
    private const double LostShare = 0.3;
    /// <summary>Frames between two attempts to find a lost element again (each costs a network pass).</summary>
    private const int RecoveryInterval = 4;
    private const int MaxRecoveryWait = 64;
    /// <summary>Feature-match probability that seeds a found region, and the least share of the element's area it must cover (chosen on davis16-dev `mask`).</summary>
    private const double SeedThreshold = 0.3;
    private const double SeedShare = 0.05;

    /// <summary>
    /// Frames between two looks for a matched element elsewhere while its track still holds something (<see cref="_checkDrift"/>):
    /// each costs a small network pass and a match over the whole frame.
    /// </summary>
    private const int DriftCheckInterval = 4;
    /// <summary>
    /// The least share of the frame the marked element must cover for a look elsewhere: the recovery features' cells
    /// are 8 pixels of a frame about 448 wide, and a smaller element (davis16-dev drift-chicane's car, 0.6 % of the
    /// frame) is matched at random (`mask` 0.710 → 0.643 when looked for).
    /// </summary>
    private const double DriftMinShare = 0.02;
    /// <summary>How much more the region found must resemble the marked element than the track does (mean match probability).</summary>
    private const double DriftMargin = 0.1;
    /// <summary>The most of the region found that may lie on the track: a region that mostly overlaps it is the same element, drawn worse.</summary>
    private const double DriftOverlap = 0.2;

    private readonly IAnchorRun? _anchor;
    private readonly ColourModel _colour;
    private readonly LabelMemory? _memory;
    private readonly FrameFeatures? _recovery;
    private readonly LabelMemory? _recoveryMemory;
    private int _framesSinceRecovery = RecoveryInterval;
    // Doubles after each attempt that finds nothing, so an element that stays lost costs a few network passes, not one every few frames.
    private int _recoveryWait = RecoveryInterval;
    private readonly bool _checkDrift;
    private int _framesSinceDriftCheck;
    private readonly double _referenceArea;
    private Mat _prevGray;
    private Mat _prob;

    /// <param name="frame">The marked frame at working size, BGR.</param>
    /// <param name="probability">CV_32FC1 in [0, 1] at working size: the element on the marked frame.</param>
    /// <param name="features">The marked frame's features, or null to track by motion and colour alone.</param>
    /// <param name="recovery">Features to find the element again when its track collapses (null: no recovery).</param>
    /// <param name="anchor">Corrections of the track on some frames (null: none).</param>
    /// <param name="recentFrames">Tracked frames the feature matching remembers besides the marked ones.</param>
    /// <param name="checkDrift">
    /// With features and recovery: every few matched frames, also look for the element over the whole frame while the
    /// track still holds something, and move there when what is found resembles the marked element clearly more.
    /// </param>
    public DirectionalTracker(Mat frame, Mat probability, FeatureGrid? features = null, FrameFeatures? recovery = null, IAnchorRun? anchor = null,
        int recentFrames = RecentFrames, bool checkDrift = false)
    {
        _anchor = anchor;
        _checkDrift = checkDrift;
        if (features != null) _memory = new LabelMemory(features, probability, MatchRadius(features), recentFrames);
        if (recovery != null)
        {
            _recovery = recovery;
            using var grid = recovery.Compute(frame);
            _recoveryMemory = new LabelMemory(grid, probability);
        }
        using var binary = Binary(probability);
        _colour = new ColourModel(frame, binary);
        _referenceArea = Math.Max(1, Cv2.CountNonZero(binary));
        _prevGray = new Mat();
        Cv2.CvtColor(frame, _prevGray, ColorConversionCodes.BGR2GRAY);
        _prob = probability.Clone();
    }

    /// <summary>The element's probability on the frame last stepped to (CV_32FC1, working size); owned by the tracker.</summary>
    public Mat Probability => _prob;

    /// <summary>Whether the last step's probability is the anchor's correction rather than the tracker's own.</summary>
    public bool Corrected { get; private set; }

    /// <summary>Moves to the next frame in this tracker's direction.</summary>
    /// <param name="features">This frame's features; needed when the tracker was made with features.</param>
    /// <param name="frameIndex">The frame's index in the video, for the anchor's corrections.</param>
    /// <param name="fullFrame">The frame at full size when the caller has it, which the anchor's network sees better.</param>
    public void Step(Mat frame, FeatureGrid? features = null, int frameIndex = -1, Mat? fullFrame = null)
    {
        var gray = new Mat();
        Cv2.CvtColor(frame, gray, ColorConversionCodes.BGR2GRAY);
        var next = _memory != null && features != null ? _memory.Predict(features, frame.Size()) : Moved(frame, gray);
        if (_recovery != null) Recover(frame, next, matched: _memory != null && features != null);
        Corrected = false;
        if (_anchor != null && frameIndex >= 0 && _anchor.Anchors(frameIndex) && _anchor.Correct(frameIndex, frame, next, fullFrame) is { } corrected)
        {
            next.Dispose();
            next = corrected;
            Corrected = true;
        }
        if (_memory != null && features != null) _memory.Remember(features, next);
        _prevGray.Dispose();
        _prevGray = gray;
        _prob.Dispose();
        _prob = next;
    }

    /// <summary>Adds the far end of a gap between two marked frames to what the feature matching draws on.</summary>
    public void AddReference(FeatureGrid features, Mat probability) => _memory?.AddReference(features, probability);

    /// <summary>
    /// How far (in cells) a part of the element may have moved since a memory frame: two fifteenths of the grid's
    /// height, 8 cells on a 480-line frame (davis16-dev `mask`: 6 cells 0.656, 8 cells 0.660).
    /// </summary>
    private static int MatchRadius(FeatureGrid grid) => Math.Max(3, grid.Rows * 2 / 15);

    /// <summary>The element on a frame without features: the previous mask moved by the flow, snapped to the colours.</summary>
    private Mat Moved(Mat frame, Mat gray)
    {
        var next = new Mat(frame.Rows, frame.Cols, MatType.CV_32FC1, Scalar.All(0));
        using var previous = Binary(_prob);
        var box = Cv2.BoundingRect(previous);
        if (box.Width > 0 && box.Height > 0) Track(frame, gray, previous, box, next);
        return next;
    }

    private void Track(Mat frame, Mat gray, Mat previousBinary, Rect box, Mat next)
    {
        var margin = (int)(0.35 * Math.Max(box.Width, box.Height)) + 12;
        var roi = new Rect(box.X - margin, box.Y - margin, box.Width + 2 * margin, box.Height + 2 * margin)
            .Intersect(new Rect(0, 0, frame.Cols, frame.Rows));

        // The sharp previous mask is what moves: warping the soft probability again and again would blur it away.
        using var state = new Mat();
        previousBinary.ConvertTo(state, MatType.CV_32FC1, 1.0 / 255);
        using var warped = WarpIntoWindow(gray, state, roi);
        using var colour = new Mat();
        using (var window = new Mat(frame, roi)) _colour.Posterior(window, colour);
        using var fused = Fuse(warped, colour);

        using var refined = new Mat();
        using (var guide = new Mat(frame, roi)) CvXImgProc.GuidedFilter(guide, fused, refined, GuideRadius(box), 400, -1);

        using var kept = KeepConsistent(refined, warped);
        var area = Cv2.CountNonZero(kept);
        var previousArea = Math.Max(1, Cv2.CountNonZero(previousBinary));
        using var target = new Mat(next, roi);
        // A sudden growth is the mask spilling onto similar-coloured background, a sudden loss is the colour model
        // failing (blur, lighting): trust the motion alone then.
        if (area > 1.8 * previousArea + 50 || area > 3 * _referenceArea || area < 0.6 * previousArea)
        {
            warped.CopyTo(target);
            return;
        }
        using var soft = new Mat();
        Cv2.Min(refined, 1.0, soft);
        Cv2.Max(soft, 0.0, soft);
        soft.CopyTo(target, kept);
        using var notKept = new Mat();
        Cv2.BitwiseNot(kept, notKept);
        using var capped = new Mat();
        Cv2.Min(soft, 0.45, capped);
        capped.CopyTo(target, notKept);
    }

    /// <summary>
    /// When the mask has collapsed (the element left the flow's reach, or was hidden and came back elsewhere), looks
    /// for it over the whole frame by matching its features on the marked frame, and starts again from the best
    /// matching region, its edges taken from the colour model. A matched track can also hold on to something else
    /// without shrinking (davis16-dev breakdance: from frame 22 on the preview's matching kept 20,000–30,000 pixels
    /// of the floor and the crowd while the dancer spun); with <see cref="_checkDrift"/> it looks every few matched
    /// frames, and moves only to a region apart from the track that resembles the marked element clearly more.
    /// Either move forgets the tracked frames the matching remembered: they hold what the track had wrongly taken.
    /// </summary>
    private void Recover(Mat frame, Mat next, bool matched)
    {
        _framesSinceDriftCheck++;
        using (var current = Binary(next))
            if (Cv2.CountNonZero(current) >= LostShare * _referenceArea)
            {
                if (_checkDrift && matched && _framesSinceDriftCheck >= DriftCheckInterval && _referenceArea >= DriftMinShare * frame.Rows * frame.Cols)
                {
                    _framesSinceDriftCheck = 0;
                    if (TryRecover(frame, next, apart: true)) _memory?.ForgetRecent();
                }
                return;
            }
        if (++_framesSinceRecovery < _recoveryWait) return;
        _framesSinceRecovery = 0;
        if (TryRecover(frame, next))
        {
            _recoveryWait = RecoveryInterval;
            _memory?.ForgetRecent();
        }
        else _recoveryWait = Math.Min(2 * _recoveryWait, MaxRecoveryWait);
    }

    /// <param name="apart">The track still holds something: move only to a region apart from it that resembles the marked element by <see cref="DriftMargin"/> more.</param>
    /// <returns>Whether a region was found and <paramref name="next"/> now holds it.</returns>
    private bool TryRecover(Mat frame, Mat next, bool apart = false)
    {
        using var grid = _recovery!.Compute(frame);
        using var matched = _recoveryMemory!.Predict(grid, frame.Size());
        using var candidates = new Mat();
        using (var above = new Mat())
        {
            Cv2.Threshold(matched, above, SeedThreshold, 255, ThresholdTypes.Binary);
            above.ConvertTo(candidates, MatType.CV_8UC1);
        }
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(candidates, labels, stats, centroids, PixelConnectivity.Connectivity8);
        var mass = MatchMass(labels, matched, count);
        var best = 0;
        for (var i = 1; i < count; i++)
        {
            var area = stats.At<int>(i, (int)ConnectedComponentsTypes.Area);
            if (area < SeedShare * _referenceArea || area > 3 * _referenceArea) continue;
            if (mass[i] > mass[best]) best = i;
        }
        if (best == 0) return false;

        var box = new Rect(stats.At<int>(best, 0), stats.At<int>(best, 1), stats.At<int>(best, 2), stats.At<int>(best, 3));
        var margin = (int)(0.35 * Math.Max(box.Width, box.Height)) + 12;
        var roi = new Rect(box.X - margin, box.Y - margin, box.Width + 2 * margin, box.Height + 2 * margin).Intersect(new Rect(0, 0, frame.Cols, frame.Rows));
        // Where the element may be: the matched region grown by a quarter of the element's size; the colour model
        // draws the edges inside it.
        using var prior = new Mat(matched.Size(), MatType.CV_32FC1, Scalar.All(0));
        using (var component = new Mat())
        {
            Cv2.Compare(labels, best, component, CmpTypes.EQ);
            var grow = Math.Max(1, (int)(Math.Sqrt(_referenceArea) / 4));
            using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(2 * grow + 1, 2 * grow + 1));
            Cv2.Dilate(component, component, kernel);
            prior.SetTo(Scalar.All(0.7), component);
        }
        using var colour = new Mat();
        using (var window = new Mat(frame, roi)) _colour.Posterior(window, colour);
        using var priorWindow = new Mat(prior, roi);
        using var fused = Fuse(priorWindow, colour);
        using var refined = new Mat();
        using (var guide = new Mat(frame, roi)) CvXImgProc.GuidedFilter(guide, fused, refined, GuideRadius(box), 400, -1);
        using var kept = KeepConsistent(refined, priorWindow);
        var found = Cv2.CountNonZero(kept);
        if (found < LostShare * _referenceArea || found > 3 * _referenceArea) return false;
        // An element that only shrank (moving away, leaving the frame) keeps its track: the region found must resemble
        // the marked element more than what is tracked does.
        using (var current = Binary(next))
        using (var matchedWindow = new Mat(matched, roi))
        {
            if (Cv2.CountNonZero(current) > 0 && Cv2.Mean(matched, current).Val0 + (apart ? DriftMargin : 0) >= Cv2.Mean(matchedWindow, kept).Val0) return false;
            if (apart)
            {
                using var tracked = new Mat(current, roi);
                using var shared = new Mat();
                Cv2.BitwiseAnd(tracked, kept, shared);
                if (Cv2.CountNonZero(shared) > DriftOverlap * found) return false;
            }
        }
        next.SetTo(Scalar.All(0));
        using var target = new Mat(next, roi);
        using var soft = new Mat();
        Cv2.Min(refined, 1.0, soft);
        Cv2.Max(soft, 0.0, soft);
        soft.CopyTo(target, kept);
        return true;
    }

    /// <summary>The sum of the match probability over each labelled region, in one pass (OpenCV has no per-label sum).</summary>
    private static unsafe double[] MatchMass(Mat labels, Mat matched, int count)
    {
        var mass = new double[count];
        int rows = labels.Rows, cols = labels.Cols;
        for (var y = 0; y < rows; y++)
        {
            var l = (int*)labels.Ptr(y);
            var m = (float*)matched.Ptr(y);
            for (var x = 0; x < cols; x++) mass[l[x]] += m[x];
        }
        mass[0] = 0;
        return mass;
    }

    /// <summary>Small elements get a small filter so their edges are not smoothed away.</summary>
    private static int GuideRadius(Rect box) => Math.Clamp(Math.Min(box.Width, box.Height) / 10, 2, 4);

    /// <summary>The previous probability moved into the current window by the flow from this frame back to the previous one.</summary>
    private Mat WarpIntoWindow(Mat gray, Mat state, Rect roi)
    {
        using var current = new Mat(gray, roi);
        using var previous = new Mat(_prevGray, roi);
        var scale = Math.Min(1.0, Math.Sqrt((double)FlowMaxPixels / (roi.Width * roi.Height)));
        using var flow = new Mat();
        if (scale < 1.0)
        {
            var size = new Size(Math.Max(16, (int)(roi.Width * scale)), Math.Max(16, (int)(roi.Height * scale)));
            using var smallCurrent = new Mat();
            using var smallPrevious = new Mat();
            Cv2.Resize(current, smallCurrent, size, 0, 0, InterpolationFlags.Area);
            Cv2.Resize(previous, smallPrevious, size, 0, 0, InterpolationFlags.Area);
            using var smallFlow = new Mat();
            Cv2.CalcOpticalFlowFarneback(smallCurrent, smallPrevious, smallFlow, 0.5, 3, 11, 3, 5, 1.1, 0);
            Cv2.Resize(smallFlow, flow, roi.Size, 0, 0, InterpolationFlags.Linear);
            // Both axes were scaled by nearly the same factor, so one factor rescales the vectors.
            flow.ConvertTo(flow, MatType.CV_32FC2, 0.5 * ((double)roi.Width / size.Width + (double)roi.Height / size.Height));
        }
        else
        {
            Cv2.CalcOpticalFlowFarneback(current, previous, flow, 0.5, 3, 11, 3, 5, 1.1, 0);
        }
        using var map = new Mat(roi.Height, roi.Width, MatType.CV_32FC2);
        Maps.Offset(flow, map, roi.X, roi.Y);
        var warped = new Mat();
        using var noMap = new Mat();
        Cv2.Remap(state, warped, map, noMap, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        return warped;
    }

    /// <summary>Log-odds sum of the motion prior (softened: flow is unsure at the edges) and the colour posterior.</summary>
    private static unsafe Mat Fuse(Mat warped, Mat colour)
    {
        using var soft = new Mat();
        Cv2.GaussianBlur(warped, soft, new Size(5, 5), 1.5);
        var fused = new Mat(warped.Rows, warped.Cols, MatType.CV_32FC1);
        int rows1 = warped.Rows, cols1 = warped.Cols;
        for (var y = 0; y < rows1; y++)
        {
            var w = (float*)soft.Ptr(y);
            var c = (float*)colour.Ptr(y);
            var f = (float*)fused.Ptr(y);
            for (var x = 0; x < cols1; x++)
            {
                var pw = Math.Clamp(w[x], 0.02f, 0.98f);
                var pc = Math.Clamp(c[x], 0.05f, 0.95f);
                var logit = MathF.Log(pw / (1 - pw)) + ColourWeight * MathF.Log(pc / (1 - pc));
                f[x] = 1f / (1f + MathF.Exp(-logit));
            }
        }
        return fused;
    }

    /// <summary>The thresholded mask without the pieces that do not continue the warped element.</summary>
    private static unsafe Mat KeepConsistent(Mat probability, Mat warped)
    {
        using var binary = Binary(probability);
        using var prior = Binary(warped);
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(binary, labels, stats, centroids, PixelConnectivity.Connectivity8);
        // One pass counts each component's overlap with the prior; OpenCV has no per-label masked count.
        var overlap = new int[count];
        int rows2 = labels.Rows, cols2 = labels.Cols;
        for (var y = 0; y < rows2; y++)
        {
            var l = (int*)labels.Ptr(y);
            var p = (byte*)prior.Ptr(y);
            for (var x = 0; x < cols2; x++)
                if (p[x] != 0) overlap[l[x]]++;
        }
        var keep = new bool[count];
        for (var i = 1; i < count; i++)
        {
            var area = stats.At<int>(i, (int)ConnectedComponentsTypes.Area);
            keep[i] = overlap[i] >= 0.3 * area;
        }
        var kept = new Mat(binary.Size(), MatType.CV_8UC1, Scalar.All(0));
        int rows3 = labels.Rows, cols3 = labels.Cols;
        for (var y = 0; y < rows3; y++)
        {
            var l = (int*)labels.Ptr(y);
            var k = (byte*)kept.Ptr(y);
            for (var x = 0; x < cols3; x++)
                if (keep[l[x]]) k[x] = 255;
        }
        return kept;
    }

    internal static Mat Binary(Mat probability)
    {
        var binary = new Mat();
        using var above = new Mat();
        Cv2.Threshold(probability, above, 0.5, 255, ThresholdTypes.Binary);
        above.ConvertTo(binary, MatType.CV_8UC1);
        return binary;
    }

    public void Dispose()
    {
        _prevGray.Dispose();
        _prob.Dispose();
        _memory?.Dispose();
    }
}

/// <summary>Builds remap tables from flow fields.</summary>
internal static class Maps
{
    /// <summary>map(x, y) = (x + dx, y + dy) + flow(x, y): where each window pixel came from in the full previous frame.</summary>
    public static unsafe void Offset(Mat flow, Mat map, int dx, int dy)
    {
        int rows4 = flow.Rows, cols4 = flow.Cols;
        for (var y = 0; y < rows4; y++)
        {
            var f = (float*)flow.Ptr(y);
            var m = (float*)map.Ptr(y);
            for (var x = 0; x < cols4; x++)
            {
                m[2 * x] = x + dx + f[2 * x];
                m[2 * x + 1] = y + dy + f[2 * x + 1];
            }
        }
    }
}
