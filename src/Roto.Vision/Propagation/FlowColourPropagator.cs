using OpenCvSharp;
using Roto.Media;
using Roto.Vision.Features;

namespace Roto.Vision.Propagation;

/// <summary>
/// Tracks every selected element through the video at a reduced working size and hands full-size masks to the caller
/// frame by frame. Frames up to the last marked frame are decoded once at working size (small, bounded) so each gap
/// between marked frames is tracked forward and backward and the two directions are blended by distance; after the
/// last marked frame tracking runs forward while the full-size frames stream past, and only the last few wait for the
/// next corrected frame to reach back to them (<see cref="BlendBack"/>).
/// </summary>
public sealed class FlowColourPropagator : IMaskPropagator
{
    /// <summary>Width of the frames the tracking works on (the height follows the aspect ratio).</summary>
    public int WorkingWidth { get; init; } = 320;

    /// <summary>
    /// Dense features (<see cref="FrameFeatures.ForTracking"/>) to track by feature-matching label propagation
    /// (<see cref="LabelMemory"/>) on frames of the features' own size; null (the default) tracks by motion and colour
    /// at <see cref="WorkingWidth"/>. Matching follows turns and fast motion far better (davis16-dev `mask` J&amp;F
    /// 0.526 → 0.693) but costs a ResNet-18 pass and the matching, about half a second per frame on 2 cores (01_dog.mp4,
    /// 289 frames: 141 s, against 1.8 s for an ffmpeg transcode); so it is opt-in (Roto:Tracking:FeatureMatching).
    /// </summary>
    public FrameFeatures? Features { get; init; }

    /// <summary>
    /// Features used to find an element again when its track collapses (it outran the flow, or was hidden and came back
    /// elsewhere): the marked frame's features are matched over the whole frame. Null turns recovery off. On davis16-dev
    /// J&amp;F `mask` 0.511 → 0.526, `click1` 0.403 → 0.406, `clicks3` 0.470 → 0.480 (docs/benchmarks.md, Tracking); it costs a
    /// ResNet-18 pass per marked frame and, while an element is lost, one every few frames.
    /// </summary>
    public FrameFeatures? Recovery { get; init; } = new();

    /// <summary>
    /// Whether a matched track also looks for its element elsewhere every few frames while it still holds something,
    /// with <see cref="Recovery"/>'s features: matching can carry the label onto something else without the mask
    /// shrinking. davis16-dev breakdance, a preview's `mask` J&amp;F: 0.366 → 0.524 (docs/benchmarks.md, "The track
    /// looks for its element elsewhere").
    /// </summary>
    public bool DriftCheck { get; init; } = true;

    /// <summary>Corrections of the track on key frames by a per-frame model (the SAM engine's); null tracks by motion alone.</summary>
    public ITrackAnchor? Anchor { get; init; }

    /// <summary>
    /// Features a task's full-quality track (<see cref="TrackingEffort.Full"/>) is matched with, instead of the flow,
    /// on every frame when the clip has at most <see cref="TaskMatchingMaxFrames"/> frames (a preview matches its
    /// corrected frames only: <see cref="PreviewFeatures"/>). With the SAM engine's corrections matching follows turns, fast motion and deformation far
    /// better (davis16-dev `mask` J&amp;F of a task's track: flow 0.659, matching 0.774), at about 0.35 s a frame more
    /// on 2 cores.
    /// </summary>
    public FrameFeatures? TaskFeatures { get; init; }

    /// <summary>
    /// Longest clip, in frames, whose task track is matched (<see cref="TaskFeatures"/>). A count, not a time, so a
    /// task's result is the same on any worker; 150 frames (5 s at 30 fps) cost about 50 s on 2 cores.
    /// </summary>
    public int TaskMatchingMaxFrames { get; init; } = 150;

    /// <summary>
    /// Features a preview with the anchor's corrections is matched with on its corrected frames only, the flow carrying
    /// the mask between them, when the clip has at most <see cref="PreviewMatchingMaxFrames"/> frames. The matching
    /// gives the corrections a prompt that has not drifted off the element, and one network pass every second or third
    /// frame fits the time a preview has (davis16-dev `mask` J&amp;F of a preview's track: flow 0.695, matched on the
    /// corrected frames 0.770, matched on every frame as a task 0.773).
    /// </summary>
    public FrameFeatures? PreviewFeatures { get; init; }

    /// <summary>Longest clip, in frames, whose preview is matched on its corrected frames (<see cref="PreviewFeatures"/>); longer ones keep the flow alone.</summary>
    public int PreviewMatchingMaxFrames { get; init; } = 120;

    /// <summary>
    /// Seconds into a preview's tracking after which it matches no more frames, the flow alone carrying the mask between
    /// SAM's corrections from there on. A preview matched on a clip of 90 frames took 21–26 s on a busy 2-core machine
    /// (davis16-dev camel, with three marked frames), and 25–51 s beside a test run, near or past the 30 s that clients
    /// wait. The deadline bounds that, at a cost on a busy machine: the 80–90-frame clips lose their last matched frames
    /// (davis16-dev `mask` J&amp;F in process, 2026-12-08: 0.770 without it, 0.749 with it; camel 0.869 → 0.770).
    /// </summary>
    public double PreviewMatchingSeconds { get; init; } = 15;

    /// <summary>
    /// Seconds into a preview's tracking after which the anchor corrects no more frames (and nothing is matched), the
    /// flow alone carrying the mask to the end. The anchor's own cap counts only its encoder passes; the corrections'
    /// decoding, matching and blending back come on top, and a preview of a 90-frame clip with two marked frames took
    /// 27–28 s through the API on a busy 2-core machine (davis16-dev camel, 2026-12-08), too near the 30 s that
    /// clients wait. This bounds the whole.
    /// </summary>
    public double PreviewCorrectionSeconds { get; init; } = 20;

    /// <summary>The clock <see cref="PreviewMatchingSeconds"/> and <see cref="PreviewCorrectionSeconds"/> are read from.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Tracked frames the matching remembers when it runs on the corrected frames only: four of them reach as far back
    /// as ten frames in a row, and cost less than half (davis16-dev `mask` J&amp;F: 4 0.770, 10 0.768).
    /// </summary>
    private const int KeyframeRecentFrames = 4;

    /// <summary>
    /// Loads the networks of <see cref="Features"/> and <see cref="Recovery"/> (every preview computes the marked
    /// frames' features), run once at the working size of a 16:9 video, the most common shape.
    /// </summary>
    public void Load()
    {
        var video = new Size(1280, 720);
        Features?.Load(Features.FrameSize(video));
        PreviewFeatures?.Load(PreviewFeatures.FrameSize(video));
        Recovery?.Load(WorkingSize(video.Width, video.Height, [], Features));
        Anchor?.Load();
    }

    /// <summary>Whether a preview's track is the full-quality one (no corrections are left out to answer in time).</summary>
    public bool PreviewIsFull => Anchor == null;

    public void Propagate(VideoSource video, IReadOnlyList<Keyframe> keyframes, TrackedFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct) => Propagate(video, keyframes, onFrame, progress, TrackingEffort.Preview, ct);

    public void Propagate(VideoSource video, IReadOnlyList<Keyframe> keyframes, TrackedFrameHandler onFrame,
        IProgress<double>? progress, TrackingEffort effort, CancellationToken ct)
    {
        var matching = MatchingFor(video.FrameCount, effort);
        var size = WorkingSize(video.Width, video.Height, keyframes, matching?.Features);
        var run = Anchor?.Begin(video.FrameCount, size, effort);
        using var anchor = run != null && effort == TrackingEffort.Preview ? new CorrectedUntil(run, new Deadline(Time, PreviewCorrectionSeconds)) : run;
        var objects = keyframes.Select(k => k.ObjectId).Distinct().Order().ToList();
        var marks = objects.ToDictionary(id => id, id => keyframes
            .Where(k => k.ObjectId == id && k.FrameIndex >= 0 && k.FrameIndex < video.FrameCount)
            .GroupBy(k => k.FrameIndex).Select(g => g.Last()).OrderBy(k => k.FrameIndex).ToList());
        var lastMarked = marks.Values.SelectMany(m => m).Select(k => k.FrameIndex).DefaultIfEmpty(-1).Max();

        var tracks = objects.ToDictionary(id => id, _ => new ObjectTrack());
        try
        {
            if (lastMarked >= 0)
                TrackMarkedSpan(video, size, matching, Recovery, DriftCheck, anchor, marks, tracks, lastMarked, p => progress?.Report(0.5 * p * (lastMarked + 1) / video.FrameCount), ct);
            StreamFullSize(video, size, matching, anchor, tracks, lastMarked, onFrame, progress, ct);
        }
        finally
        {
            foreach (var track in tracks.Values) track.Dispose();
        }
    }

    /// <summary>Whether and how this propagation matches features: always (<see cref="Features"/>), a task's short clip, or a preview's short clip on its corrected frames.</summary>
    private Matching? MatchingFor(int frameCount, TrackingEffort effort)
    {
        if (Features != null) return new Matching(Features, false, DirectionalTracker.RecentFrames);
        if (effort == TrackingEffort.Full && TaskFeatures != null && frameCount <= TaskMatchingMaxFrames)
            return new Matching(TaskFeatures, false, DirectionalTracker.RecentFrames);
        if (effort == TrackingEffort.Preview && Anchor != null && PreviewFeatures != null && frameCount <= PreviewMatchingMaxFrames)
            return new Matching(PreviewFeatures, true, KeyframeRecentFrames) { Until = new Deadline(Time, PreviewMatchingSeconds) };
        return null;
    }

    /// <summary>
    /// The features a propagation matches with; on every frame, or (<paramref name="CorrectedFramesOnly"/>) on the
    /// anchor's corrected frames with the flow between them, until <see cref="Until"/>.
    /// </summary>
    private sealed record Matching(FrameFeatures Features, bool CorrectedFramesOnly, int RecentFrames)
    {
        public Deadline? Until { get; init; }

        public bool On(int frameIndex, IAnchorRun? anchor) =>
            !CorrectedFramesOnly || anchor == null || (anchor.Anchors(frameIndex) && Until?.Passed != true);
    }

    /// <summary>An anchor's run that corrects no frame once <paramref name="until"/> has passed.</summary>
    private sealed class CorrectedUntil(IAnchorRun run, Deadline until) : IAnchorRun
    {
        public bool Anchors(int frameIndex) => !until.Passed && run.Anchors(frameIndex);

        public Mat? Correct(int frameIndex, Mat frame, Mat probability, Mat? fullFrame = null) =>
            until.Passed ? null : run.Correct(frameIndex, frame, probability, fullFrame);

        public void Dispose() => run.Dispose();
    }

    /// <summary>A moment <paramref name="seconds"/> after its creation on <paramref name="time"/>.</summary>
    private sealed class Deadline(TimeProvider time, double seconds)
    {
        private readonly long _start = time.GetTimestamp();

        public bool Passed => time.GetElapsedTime(_start).TotalSeconds >= seconds;
    }

    /// <summary>Largest working width used for small elements.</summary>
    public int MaxWorkingWidth { get; init; } = 640;

    /// <summary>Pixels the smallest element should cover at working size for its edges to survive the filters.</summary>
    private const double MinElementPixels = 1500;

    /// <summary>
    /// The working size: the features' frame size when tracking by features; otherwise <see cref="WorkingWidth"/>,
    /// widened (up to <see cref="MaxWorkingWidth"/>) when an element is small.
    /// </summary>
    private Size WorkingSize(int width, int height, IReadOnlyList<Keyframe> keyframes, FrameFeatures? features)
    {
        if (features != null) return features.FrameSize(new Size(width, height));
        var w = (double)WorkingWidth;
        foreach (var k in keyframes)
        {
            var fraction = (double)Cv2.CountNonZero(k.Mask) / (k.Mask.Width * k.Mask.Height);
            if (fraction <= 0) continue;
            w = Math.Max(w, Math.Sqrt(MinElementPixels / (fraction * height / width)));
        }
        var workWidth = (int)Math.Min(width, Math.Min(Math.Max(WorkingWidth, MaxWorkingWidth), Math.Round(w / 2) * 2));
        var h = Math.Max(2, (int)Math.Round((double)height * workWidth / width / 2) * 2);
        return new Size(workWidth, h);
    }

    /// <summary>
    /// The marked span's feature grids, computed when first needed and kept for the last few: a gap visits its frames
    /// backward then forward, and a grid is about 10 MB, so a span of hundreds of frames must not hold them all. Every
    /// caller uses a grid at once (the memories copy what they keep), so the oldest can go on the next call.
    /// </summary>
    private sealed class SpanGrids(List<Mat> frames, Matching? matching, IAnchorRun? anchor) : IDisposable
    {
        /// <summary>Grids kept at once (about 10 MB each); a longer gap between marks computes its features twice.</summary>
        private const int Cached = 16;

        private readonly Dictionary<int, FeatureGrid> _grids = [];
        private readonly Queue<int> _order = new();

        /// <summary>Tracked frames a tracker's matching remembers.</summary>
        public int RecentFrames => matching?.RecentFrames ?? DirectionalTracker.RecentFrames;

        /// <summary>A marked frame's grid, null when the propagation does not match.</summary>
        public FeatureGrid? OfMark(int t)
        {
            if (matching == null) return null;
            if (_grids.TryGetValue(t, out var grid)) return grid;
            while (_order.Count >= Cached) if (_grids.Remove(_order.Dequeue(), out var old)) old.Dispose();
            _order.Enqueue(t);
            return _grids[t] = matching.Features.Compute(frames[t]);
        }

        /// <summary>The grid of a frame a tracker steps to: null where the flow carries the mask.</summary>
        public FeatureGrid? OfStep(int t) => matching != null && matching.On(t, anchor) ? OfMark(t) : null;

        public void Dispose()
        {
            foreach (var g in _grids.Values) g.Dispose();
        }
    }

    /// <summary>Frames 0 … lastMarked: decoded once at working size, tracked both ways between marked frames.</summary>
    private static void TrackMarkedSpan(VideoSource video, Size size, Matching? matching, FrameFeatures? recovery, bool driftCheck, IAnchorRun? anchor, Dictionary<int, List<Keyframe>> marks,
        Dictionary<int, ObjectTrack> tracks, int lastMarked, Action<double> progress, CancellationToken ct)
    {
        var frames = new List<Mat>(lastMarked + 1);
        using var grids = new SpanGrids(frames, matching, anchor);
        try
        {
            using (var reader = video.OpenReader(size.Width, size.Height))
            {
                while (frames.Count <= lastMarked)
                {
                    ct.ThrowIfCancellationRequested();
                    var frame = reader.ReadFrame() ?? throw new MediaException("the video ended before its last marked frame");
                    frames.Add(frame);
                }
            }
            progress(0.3);
            var done = 0;
            foreach (var (objectId, keys) in marks)
            {
                ct.ThrowIfCancellationRequested();
                var track = tracks[objectId];
                if (keys.Count == 0) continue;
                var masks = keys.Select(k => ScaledProbability(k.Mask, size)).ToList();
                try
                {
                    // Before the first marked frame: backward only.
                    using (var back = new DirectionalTracker(frames[keys[0].FrameIndex], masks[0], grids.OfMark(keys[0].FrameIndex), recovery, anchor, grids.RecentFrames, driftCheck))
                    {
                        AddOtherMarks(back, keys, masks, 0, grids);
                        for (var t = keys[0].FrameIndex - 1; t >= 0; t--)
                        {
                            ct.ThrowIfCancellationRequested();
                            back.Step(frames[t], grids.OfStep(t), t);
                            track.Store(t, back.Probability);
                        }
                    }
                    for (var i = 0; i < keys.Count; i++)
                    {
                        track.Store(keys[i].FrameIndex, masks[i]);
                        if (i + 1 < keys.Count) TrackGap(frames, grids, recovery, driftCheck, anchor, keys[i].FrameIndex, masks[i], keys[i + 1].FrameIndex, masks[i + 1], track, ct);
                    }
                    // After this element's last marked frame: forward, continued later on the streamed frames.
                    var last = keys[^1].FrameIndex;
                    track.Live = new DirectionalTracker(frames[last], masks[^1], grids.OfMark(last), recovery, anchor, grids.RecentFrames, driftCheck);
                    AddOtherMarks(track.Live, keys, masks, keys.Count - 1, grids);
                    for (var t = last + 1; t <= lastMarked; t++)
                    {
                        ct.ThrowIfCancellationRequested();
                        track.Live.Step(frames[t], grids.OfStep(t), t);
                        track.Store(t, track.Live.Probability);
                    }
                }
                finally
                {
                    foreach (var m in masks) m.Dispose();
                }
                progress(0.3 + 0.7 * ++done / marks.Count);
            }
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    /// <summary>The element's other marked frames join the feature matching's memory: their labels are right.</summary>
    private static void AddOtherMarks(DirectionalTracker tracker, List<Keyframe> keys, List<Mat> masks, int own, SpanGrids grids)
    {
        for (var i = 0; i < keys.Count; i++)
            if (i != own && grids.OfMark(keys[i].FrameIndex) is { } g) tracker.AddReference(g, masks[i]);
    }

    /// <summary>
    /// Between two marked frames: both directions, blended with weights that fall with distance from their start. A
    /// direction that has lost the element has nothing to say about where it is, so where only one direction still
    /// holds it, that one is taken alone: otherwise a poor mark (a one-click correction of a small, far element) that
    /// its own direction soon loses erases the other direction's good track over half the gap (davis16-dev bmx-trees,
    /// a task's `clicks3`: frames 35–68 emptied). Lost means smaller than <see cref="LostShare"/> of the smaller
    /// marked mask: an element may shrink between its marks (moving away), but not below what either end shows.
    /// </summary>
    private static void TrackGap(List<Mat> frames, SpanGrids grids, FrameFeatures? recovery, bool driftCheck, IAnchorRun? anchor, int from, Mat fromMask, int to, Mat toMask, ObjectTrack track, CancellationToken ct)
    {
        if (to - from < 2) return;
        var lostBelow = LostShare * Math.Min(Area(fromMask), Area(toMask));
        var backward = new Dictionary<int, Mat>();
        try
        {
            using (var back = new DirectionalTracker(frames[to], toMask, grids.OfMark(to), recovery, anchor, grids.RecentFrames, driftCheck))
            {
                if (grids.OfMark(from) is { } fromGrid) back.AddReference(fromGrid, fromMask);
                for (var t = to - 1; t > from; t--)
                {
                    ct.ThrowIfCancellationRequested();
                    back.Step(frames[t], grids.OfStep(t), t);
                    backward[t] = back.Probability.Clone();
                }
            }
            using var forward = new DirectionalTracker(frames[from], fromMask, grids.OfMark(from), recovery, anchor, grids.RecentFrames, driftCheck);
            if (grids.OfMark(to) is { } toGrid) forward.AddReference(toGrid, toMask);
            using var blend = new Mat();
            for (var t = from + 1; t < to; t++)
            {
                ct.ThrowIfCancellationRequested();
                forward.Step(frames[t], grids.OfStep(t), t);
                var forwardLost = Area(forward.Probability) < lostBelow;
                var backwardLost = Area(backward[t]) < lostBelow;
                var w = forwardLost == backwardLost ? (double)(t - from) / (to - from) : backwardLost ? 0 : 1;
                Cv2.AddWeighted(forward.Probability, 1 - w, backward[t], w, 0, blend);
                track.Store(t, blend);
            }
        }
        finally
        {
            foreach (var m in backward.Values) m.Dispose();
        }
    }

    /// <summary>A direction of a gap has lost the element below this share of the smaller of the gap's marked masks.</summary>
    private const double LostShare = 0.3;

    /// <summary>Pixels where the element is more likely than not.</summary>
    private static int Area(Mat probability)
    {
        using var binary = DirectionalTracker.Binary(probability);
        return Cv2.CountNonZero(binary);
    }

    /// <summary>Frames decoded and tracked ahead of the caller: bounds memory while the caller renders the previous ones.</summary>
    private const int FramesAhead = 3;

    /// <summary>
    /// Streamed frames (after the last marked frame) that a correction of the track also reaches backward, when the
    /// track is by flow with an anchor's corrections; each waits, full size, for the next corrected frame. 0 turns it off.
    /// </summary>
    public int BlendBack { get; init; } = 8;

    /// <summary>
    /// Decodes full-size frames, finishes forward tracking past the last marked frame, and emits full-size masks.
    /// Decoding and tracking run on a worker a few frames ahead of <paramref name="onFrame"/>, which stays on the
    /// caller's thread, so the caller's rendering and encoding overlap the tracking.
    /// </summary>
    private void StreamFullSize(VideoSource video, Size size, Matching? matching, IAnchorRun? anchor, Dictionary<int, ObjectTrack> tracks, int lastMarked,
        TrackedFrameHandler onFrame, IProgress<double>? progress, CancellationToken ct)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var ready = new System.Collections.Concurrent.BlockingCollection<TrackedFrame>(FramesAhead);
        var worker = Task.Run(() =>
        {
            try
            {
                Produce(video, size, matching, anchor, tracks, lastMarked, ready, cancel.Token);
            }
            finally
            {
                ready.CompleteAdding();
            }
        }, cancel.Token);
        try
        {
            var start = lastMarked >= 0 ? 0.5 * (lastMarked + 1) / video.FrameCount : 0;
            foreach (var item in ready.GetConsumingEnumerable(cancel.Token))
            {
                using (item)
                {
                    onFrame(item.Index, item.Frame, item.Masks);
                }
                progress?.Report(start + (1 - start) * (item.Index + 1) / video.FrameCount);
            }
        }
        catch (OperationCanceledException) when (worker.IsFaulted)
        {
            // The worker failed and the wait was cut short; its exception is rethrown below.
        }
        finally
        {
            cancel.Cancel();
            try
            {
                worker.Wait(CancellationToken.None);
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
            {
                // Cancelled by the finally above after a normal end or a failure of onFrame.
            }
            while (ready.TryTake(out var left)) left.Dispose();
        }
        if (worker.Exception is { } failure && failure.InnerExceptions.Any(x => x is not OperationCanceledException))
            throw failure.InnerExceptions.First(x => x is not OperationCanceledException);
        ct.ThrowIfCancellationRequested();
    }

    private void Produce(VideoSource video, Size size, Matching? matching, IAnchorRun? anchor, Dictionary<int, ObjectTrack> tracks, int lastMarked,
        System.Collections.Concurrent.BlockingCollection<TrackedFrame> ready, CancellationToken ct)
    {
        using var reader = video.OpenReader();
        // Frames held back until the next corrected frame can reach them (where the flow carries the mask: matching on
        // every frame keeps its own memory).
        var blendBack = (matching == null || matching.CorrectedFramesOnly) && anchor != null ? Math.Max(0, BlendBack) : 0;
        var held = new List<HeldFrame>();
        // The last frame on which each element's track was exact (marked) or corrected, where the forward track is surest.
        var sure = tracks.Keys.ToDictionary(id => id, _ => lastMarked);
        try
        {
            for (var t = 0; t < video.FrameCount; t++)
            {
                ct.ThrowIfCancellationRequested();
                var frame = new HeldFrame(t, new TrackedFrame(t, new Mat(video.Height, video.Width, MatType.CV_8UC3)));
                try
                {
                    if (!reader.ReadInto(frame.Item.Frame)) break;
                    var live = t > lastMarked && tracks.Values.Any(tr => tr.Live != null);
                    if (live)
                    {
                        frame.Small = new Mat();
                        Cv2.Resize(frame.Item.Frame, frame.Small, size, 0, 0, InterpolationFlags.Area);
                    }
                    // One feature pass per matched frame serves every element.
                    using var grid = live && matching != null && matching.On(t, anchor) ? matching.Features.Compute(frame.Small!) : null;
                    var corrected = new List<int>();
                    foreach (var (id, track) in tracks)
                    {
                        if (t > lastMarked && track.Live != null)
                        {
                            track.Live.Step(frame.Small!, grid, t, frame.Item.Frame);
                            frame.Probabilities[id] = track.Live.Probability.Clone();
                            if (track.Live.Corrected) corrected.Add(id);
                        }
                        else if (track.Stored(t) is { } stored) frame.Probabilities[id] = stored.Clone();
                    }
                    if (blendBack == 0 || !live)
                    {
                        Hand(frame, tracks.Keys, ready, ct);
                        continue;
                    }
                    foreach (var id in corrected)
                    {
                        BlendBackFrom(frame, id, held, sure[id]);
                        sure[id] = t;
                    }
                    held.Add(frame);
                    frame = null;
                    // A frame that got a correction ends the gap for every element; otherwise only the last few wait.
                    var keyframe = anchor!.Anchors(t);
                    while (held.Count > (keyframe ? 0 : blendBack)) HandOldest();
                }
                finally
                {
                    frame?.Dispose();
                }
            }
            while (held.Count > 0) HandOldest();
        }
        finally
        {
            foreach (var h in held) h.Dispose();
        }

        void HandOldest()
        {
            using var oldest = held[0];
            held.RemoveAt(0);
            Hand(oldest, tracks.Keys, ready, ct);
        }
    }

    /// <summary>
    /// Frames before a corrected frame, held back: the element tracked back from the correction over them (flow only)
    /// and blended with the forward track, with weights that fall with distance from each direction's start, as between
    /// two marked frames. The forward track drifts most just before a correction, where the backward one is surest.
    /// </summary>
    private static void BlendBackFrom(HeldFrame corrected, int id, List<HeldFrame> held, int from)
    {
        var to = corrected.Index;
        using var back = new DirectionalTracker(corrected.Small!, corrected.Probabilities[id]);
        using var blend = new Mat();
        for (var i = held.Count - 1; i >= 0 && held[i].Index > from; i--)
        {
            var frame = held[i];
            if (frame.Small == null || !frame.Probabilities.TryGetValue(id, out var forward)) break;
            back.Step(frame.Small);
            var w = (double)(frame.Index - from) / (to - from);
            Cv2.AddWeighted(forward, 1 - w, back.Probability, w, 0, blend);
            blend.CopyTo(forward);
        }
    }

    /// <summary>Writes a frame's full-size masks and hands its <see cref="HeldFrame.Item"/> to the caller's side, which then owns it.</summary>
    private static void Hand(HeldFrame frame, IEnumerable<int> ids, System.Collections.Concurrent.BlockingCollection<TrackedFrame> ready, CancellationToken ct)
    {
        var item = frame.Item;
        foreach (var id in ids) item.Masks[id] = new Mat(item.Frame.Rows, item.Frame.Cols, MatType.CV_8UC1, Scalar.All(0));
        MaskWriter.Write(frame.Probabilities, item.Masks, item.Frame.Size());
        ready.Add(item, ct);
        frame.Handed = true;
    }

    /// <summary>A streamed frame on its way out: the full-size frame, its working-size copy and each element's probability.</summary>
    private sealed class HeldFrame(int index, TrackedFrame item) : IDisposable
    {
        public int Index { get; } = index;
        public TrackedFrame Item { get; } = item;
        /// <summary>Whether <see cref="Item"/> went to the caller's side, which owns it then.</summary>
        public bool Handed { get; set; }
        public Mat? Small { get; set; }
        public Dictionary<int, Mat> Probabilities { get; } = [];

        public void Dispose()
        {
            if (!Handed) Item.Dispose();
            Small?.Dispose();
            foreach (var p in Probabilities.Values) p.Dispose();
        }
    }

    /// <summary>A decoded full-size frame with its masks, on its way to the caller.</summary>
    private sealed class TrackedFrame(int index, Mat frame) : IDisposable
    {
        public int Index { get; } = index;
        public Mat Frame { get; } = frame;
        public Dictionary<int, Mat> Masks { get; } = [];

        public void Dispose()
        {
            Frame.Dispose();
            foreach (var m in Masks.Values) m.Dispose();
        }
    }

    private static Mat ScaledProbability(Mat mask, Size size)
    {
        using var scaled = new Mat();
        Cv2.Resize(mask, scaled, size, 0, 0, InterpolationFlags.Area);
        var probability = new Mat();
        scaled.ConvertTo(probability, MatType.CV_32FC1, 1.0 / 255);
        return probability;
    }

    /// <summary>One element's masks on the frames up to the last marked one (working size, 8-bit probability), and its live forward tracker.</summary>
    private sealed class ObjectTrack : IDisposable
    {
        private readonly Dictionary<int, Mat> _stored = [];
        public DirectionalTracker? Live { get; set; }

        public void Store(int frameIndex, Mat probability)
        {
            var bytes = new Mat();
            probability.ConvertTo(bytes, MatType.CV_8UC1, 255);
            if (_stored.Remove(frameIndex, out var old)) old.Dispose();
            _stored[frameIndex] = bytes;
        }

        /// <summary>The stored probability as CV_32FC1, or null; the returned Mat is owned by the track until the next call.</summary>
        public Mat? Stored(int frameIndex)
        {
            if (!_stored.TryGetValue(frameIndex, out var bytes)) return null;
            _current?.Dispose();
            _current = new Mat();
            bytes.ConvertTo(_current, MatType.CV_32FC1, 1.0 / 255);
            return _current;
        }

        private Mat? _current;

        public void Dispose()
        {
            foreach (var m in _stored.Values) m.Dispose();
            _current?.Dispose();
            Live?.Dispose();
        }
    }
}

/// <summary>Turns working-size probabilities into full-size 0/255 masks, each pixel going to at most one element.</summary>
internal static class MaskWriter
{
    public static void Write(IReadOnlyDictionary<int, Mat> probabilities, Dictionary<int, Mat> masks, Size fullSize)
    {
        using var best = new Mat();
        var first = true;
        foreach (var p in probabilities.Values)
        {
            if (first) { p.CopyTo(best); first = false; }
            else Cv2.Max(best, p, best);
        }
        using var owned = new Mat();
        using var scaled = new Mat();
        foreach (var (id, mask) in masks)
        {
            if (!probabilities.TryGetValue(id, out var p))
            {
                mask.SetTo(Scalar.All(0));
                continue;
            }
            // Where elements overlap, the most probable one keeps the pixel.
            using (var isBest = new Mat())
            {
                Cv2.Compare(p, best, isBest, CmpTypes.GE);
                owned.Create(p.Size(), MatType.CV_32FC1);
                owned.SetTo(Scalar.All(0));
                p.CopyTo(owned, isBest);
            }
            Cv2.Resize(owned, scaled, fullSize, 0, 0, InterpolationFlags.Linear);
            Cv2.Threshold(scaled, scaled, 0.5, 255, ThresholdTypes.Binary);
            scaled.ConvertTo(mask, MatType.CV_8UC1);
        }
    }
}
