using System.Runtime.InteropServices;
using System.Security.Cryptography;
using OpenCvSharp;
using OpenCvSharp.XImgProc;
using Roto.Vision.Segmentation;

namespace Roto.Vision.Learned;

/// <summary>
/// Click to mask with SAM: the frame is encoded once (cached per frame), and each click runs only the decoder with
/// every point of the element and the previous mask's logits as <c>mask_input</c>, so a correction refines the mask
/// it corrects. The first click's mask is chosen among the decoder's candidates by its own IoU estimate, its
/// stability and its agreement with the salient region under the click, which tells a whole element from one of its
/// parts better than the estimate alone. Corrections replay in order and, by default, stay monotone and local.
/// Thread-safe.
/// </summary>
public sealed class SamClickSegmenter(SamModels models, SamSegmenterOptions? options = null) : IClickSegmenter
{
    private readonly SamSegmenterOptions _options = options ?? new SamSegmenterOptions();
    private readonly LruCache<FrameState> _cache = new((options ?? new SamSegmenterOptions()).CachedFrames);

    /// <summary>Frames whose embedding is cached (for tests and diagnostics).</summary>
    public int CachedFrameCount => _cache.Count;

    public void Load()
    {
        using var frame = new Mat(144, 256, MatType.CV_8UC3, new Scalar(90, 120, 60));
        Cv2.Circle(frame, new Point(128, 72), 40, new Scalar(40, 60, 200), -1);
        using var mask = Segment(new SegmentRequest(frame, [new Click(0.5, 0.5)], null));
    }

    public void Prepare(Mat frame, string cacheKey, Mat? later = null)
    {
        var state = State(frame, cacheKey);
        if (later != null && _options.MotionWeight > 0 && state.Moving == null) state.Moving = Moving(frame, later, state.WorkSize);
    }

    /// <summary>Three frames on: enough motion to tell, at 24–30 fps, and the element has not gone far.</summary>
    public int LaterFrames => _options.MotionWeight > 0 ? 3 : 0;

    public Mat Segment(SegmentRequest request)
    {
        var frame = request.Frame;
        var prior = request.Prior is { } given && Cv2.CountNonZero(given) > 0 ? given : null;
        if (prior == null && !request.Clicks.Any(c => c.Include)) return new Mat(frame.Rows, frame.Cols, MatType.CV_8UC1, Scalar.All(0));
        var state = State(frame, request.CacheKey);
        if (request.Later != null && _options.MotionWeight > 0 && state.Moving == null) state.Moving = Moving(frame, request.Later, state.WorkSize);
        // With a prior every click is a correction of it, and the memo tells priors apart by their content.
        var step = prior == null ? null : PriorStep(prior, state);
        var scope = step == null ? "" : Convert.ToHexString(SHA256.HashData(step.Mask)) + "|";
        for (var k = 1; k <= request.Clicks.Count; k++)
        {
            var prefix = request.Clicks.Take(k).ToList();
            var key = scope + string.Join(';', prefix.Select(c => FormattableString.Invariant($"{c.X:0.0000},{c.Y:0.0000}{(c.Include ? '+' : '-')}")));
            lock (state.Memo)
                if (state.Memo.TryGetValue(key, out var memo)) { step = memo; continue; }
            step = k == 1 && step != null && prefix[0].Include ? FirstOnPrior(state, prefix, step) : Next(state, prefix, step, prior != null);
            lock (state.Memo) state.Memo[key] = step;
        }
        using var work = ToMat(step!.Mask, state.WorkSize);
        var full = new Mat();
        if (state.WorkSize == frame.Size()) work.CopyTo(full);
        else Cv2.Resize(work, full, frame.Size(), 0, 0, InterpolationFlags.Linear);
        SnapToEdges(frame, full, request.Clicks, (int)Math.Round(_options.EdgeRadius * Math.Max(frame.Cols, frame.Rows)), _options.EdgeEps);
        return full;
    }

    /// <summary>
    /// Moves the mask's outline onto the frame's edges with a guided filter (He et al.): the decoder's outline is
    /// drawn on a coarse grid, and a boundary a cell or two off costs IoU on every element (davis16-dev frame 0:
    /// IoU@3 0.842 → 0.850). Thresholds the mask (0 or 255) in place. Where the filter would flip a click's own pixel
    /// (a click on a part thinner than the filter), the outline stays as decoded: the person's click wins.
    /// </summary>
    internal static void SnapToEdges(Mat frame, Mat mask, IReadOnlyList<Click> clicks, int radius, double eps)
    {
        Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
        if (radius >= 1 && frame.Type() == MatType.CV_8UC3 && Cv2.CountNonZero(mask) > 0)
        {
            // Only the mask's box and the filter's reach beyond it can change: filtering that part alone keeps a later
            // click's cost near the decoder's.
            var box = Cv2.BoundingRect(mask);
            var reach = 2 * radius + 1;
            var area = new Rect(box.X - reach, box.Y - reach, box.Width + 2 * reach, box.Height + 2 * reach).Intersect(new Rect(0, 0, frame.Cols, frame.Rows));
            using var guide = new Mat(frame, area);
            using var part = new Mat(mask, area);
            using var soft = new Mat();
            using var snapped = new Mat();
            part.ConvertTo(soft, MatType.CV_32FC1, 1.0 / 255);
            CvXImgProc.GuidedFilter(guide, soft, snapped, radius, eps);
            snapped.ConvertTo(snapped, MatType.CV_8UC1, 255);
            Cv2.Threshold(snapped, snapped, 127, 255, ThresholdTypes.Binary);
            if (clicks.All(c => !UndoesClick(c, part, snapped, area, frame.Size()))) snapped.CopyTo(part);
        }
    }

    /// <summary>Whether the snapped mask turns against a click that the decoded mask honoured.</summary>
    private static bool UndoesClick(Click click, Mat decoded, Mat snapped, Rect area, Size frame)
    {
        var x = Math.Clamp((int)(click.X * frame.Width), 0, frame.Width - 1) - area.X;
        var y = Math.Clamp((int)(click.Y * frame.Height), 0, frame.Height - 1) - area.Y;
        if (x < 0 || y < 0 || x >= area.Width || y >= area.Height) return false;
        var wasHonoured = (decoded.At<byte>(y, x) != 0) == click.Include;
        return wasHonoured && snapped.At<byte>(y, x) != decoded.At<byte>(y, x);
    }

    /// <summary>
    /// The first include click on a prior: the prior mended near the click, or, where the click's own mask keeps what
    /// the prior had (most of its pixels, at most twice its area), that mask: the track held a part of the element and
    /// the click shows the whole of it. Where the click's own mask lies wholly apart from the prior (no shared pixel,
    /// their boxes apart) and is no smaller, the track had lost the element on this frame and the click shows where
    /// it went: its own mask, without the prior, which would otherwise be carried on as part of the element. A
    /// smaller mask of the click's own may be a part of the element, and the decoder prompted with the track's mask
    /// draws more of it.
    /// </summary>
    private Step FirstOnPrior(FrameState state, List<Click> prefix, Step prior)
    {
        var alone = Next(state, prefix, null, fromPrior: false);
        int priorArea = 0, kept = 0, aloneArea = 0;
        for (var i = 0; i < prior.Mask.Length; i++)
        {
            if (alone.Mask[i] != 0) aloneArea++;
            if (prior.Mask[i] == 0) continue;
            priorArea++;
            if (alone.Mask[i] != 0) kept++;
        }
        if (_options.LostPriorDropped && kept == 0 && aloneArea >= priorArea && Apart(state.WorkSize, prior.Mask, alone.Mask)) return alone;
        if (kept >= _options.PriorKept * priorArea && aloneArea <= _options.PriorGrowth * priorArea) return alone;
        // The mended mask costs a decoder pass of its own, spent only when it is the answer.
        return Next(state, prefix, prior, fromPrior: true);
    }

    /// <summary>Whether the two masks' bounding boxes do not meet.</summary>
    private static bool Apart(Size size, byte[] a, byte[] b)
    {
        using var first = ToMat(a, size);
        using var second = ToMat(b, size);
        var shared = Cv2.BoundingRect(first) & Cv2.BoundingRect(second);
        return shared.Width == 0 || shared.Height == 0;
    }

    /// <summary>The prior as the step the first click refines: its mask at working size and its logits as SAM's mask prompt.</summary>
    private static Step PriorStep(Mat prior, FrameState state)
    {
        using var work = new Mat();
        Cv2.Resize(prior, work, state.WorkSize, 0, 0, InterpolationFlags.Linear);
        Cv2.Threshold(work, work, 127, 255, ThresholdTypes.Binary);
        var bytes = new byte[state.WorkSize.Width * state.WorkSize.Height];
        Marshal.Copy(work.Data, bytes, 0, bytes.Length);
        return new Step(bytes, SamDecoder.MaskPrompt(prior));
    }

    /// <summary>The mask after one more click, at working size, with the logits the next click refines.</summary>
    private sealed record Step(byte[] Mask, float[]? LowRes);

    private Step Next(FrameState state, List<Click> prefix, Step? previous, bool fromPrior)
    {
        var last = prefix[^1];
        var includes = prefix.Count(c => c.Include);
        if (includes == 0 && !fromPrior) return new Step(new byte[state.WorkSize.Width * state.WorkSize.Height], null);
        var points = prefix.Select(c => Point(c, state)).ToList();
        var hasMask = previous?.LowRes != null && previous.Mask.Any(b => b != 0);
        // Clicks alone let the decoder answer with the part around the newest click; the box of the selection so far
        // holds it to the whole element (davis16-dev frame 0: clicks losing over 0.05 IoU fell from 4 of 190 to none).
        if (hasMask && _options.CorrectionBox) points.AddRange(SelectionBox(state, previous!.Mask, prefix));
        var candidates = models.Decoder.Decode(state.Embedding, points, hasMask ? previous!.LowRes : null, state.WorkSize, allMasks: !hasMask && _options.AllMasks);
        try
        {
            if (!hasMask) return First(state, prefix, points, candidates);
            // Exports differ in how many masks they return; prefer one that honours the click.
            var chosen = candidates.OrderByDescending(c => Fits(c, last, state) ? 1 : 0).ThenByDescending(c => c.PredictedIou).First();
            var mask = Bytes(chosen, state.WorkSize);
            if (_options.Corrections == "monotone" || (_options.Corrections == "guarded" && !StaysLocal(state, previous!.Mask, mask, last)))
                mask = Monotone(state, previous!.Mask, mask, last, prefix, fromPrior);
            return new Step(mask, chosen.LowRes);
        }
        finally
        {
            foreach (var c in candidates) c.Dispose();
        }
    }

    /// <summary>The selection's bounding box grown to take in every include click, as SAM's two box corners in frame pixels.</summary>
    private IEnumerable<PromptPoint> SelectionBox(FrameState state, byte[] mask, List<Click> prefix)
    {
        using var selection = ToMat(mask, state.WorkSize);
        var box = Cv2.BoundingRect(selection);
        float left = box.Left, top = box.Top, right = box.Right, bottom = box.Bottom;
        foreach (var c in prefix.Where(c => c.Include))
        {
            float x = Col(c, state), y = Row(c, state);
            (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x + 1), Math.Max(bottom, y + 1));
        }
        var pad = (float)_options.CorrectionBoxPadding * Math.Max(right - left, bottom - top);
        var inverse = 1f / state.WorkScale;
        yield return new PromptPoint(Math.Max(0, left - pad) * inverse, Math.Max(0, top - pad) * inverse, 2);
        yield return new PromptPoint(Math.Min(state.WorkSize.Width, right + pad) * inverse, Math.Min(state.WorkSize.Height, bottom + pad) * inverse, 3);
    }

    /// <summary>The first include click: the candidate that scores best as a whole element.</summary>
    private Step First(FrameState state, List<Click> prefix, List<PromptPoint> points, List<SamCandidate> candidates)
    {
        var click = prefix.Last(c => c.Include);
        int cx = Col(click, state), cy = Row(click, state);
        using var salient = Sizeable(RegionUnder(state.Salient, state, cx, cy), state);
        using var moving = state.Moving == null ? null : Sizeable(RegionUnder(state.Moving, state, cx, cy), state);
        var extra = new List<SamCandidate>();
        try
        {
            if (_options.SalientCandidate && salient != null && Cv2.CountNonZero(salient) > 0) extra.AddRange(Boxed(state, points, salient));
            if (moving != null) extra.AddRange(Boxed(state, points, moving));
            SamCandidate? best = null;
            var bestScore = double.MinValue;
            foreach (var candidate in candidates.Concat(extra))
            {
                using var mask = candidate.Binary();
                if (mask.At<byte>(cy, cx) == 0) continue;
                var agreement = salient == null ? 0 : MaskMats.Iou(mask, salient);
                var motion = moving == null ? 0 : MaskMats.Iou(mask, moving);
                var score = _options.PredictedIouWeight * candidate.PredictedIou + _options.StabilityWeight * candidate.Stability()
                    + _options.SaliencyWeight * agreement + _options.MotionWeight * motion;
                if (score > bestScore) { bestScore = score; best = candidate; }
            }
            best ??= candidates.OrderByDescending(c => c.PredictedIou).First();
            if (moving != null && _options.StillShare > 0) best = CutToMoving(best, state, points, moving, cx, cy, extra);
            return new Step(Bytes(best, state.WorkSize), best.LowRes);
        }
        finally
        {
            foreach (var c in extra) c.Dispose();
        }
    }

    /// <summary>
    /// Where much of the chosen candidate stays still while the element moves (a car's mask that took in the bed under
    /// it), the decoder's mask for the click with the box of the chosen candidate's moving part.
    /// </summary>
    private SamCandidate CutToMoving(SamCandidate chosen, FrameState state, List<PromptPoint> points, Mat moving, int cx, int cy, List<SamCandidate> owned)
    {
        using var mask = chosen.Binary();
        var share = MaskMats.Within(mask, moving);
        if (share >= _options.StillShare) return chosen;
        using var core = new Mat();
        Cv2.BitwiseAnd(mask, moving, core);
        if (Cv2.CountNonZero(core) == 0) return chosen;
        var cut = Boxed(state, points, core).Single();
        owned.Add(cut);
        using var cutMask = cut.Binary();
        // A cut that moves no more than the chosen mask did has only lost parts of the element.
        return cutMask.At<byte>(cy, cx) == 0 || MaskMats.Within(cutMask, moving) < share + _options.CutShareGain ? chosen : cut;
    }

    /// <summary>The decoder's mask for the points with the region's bounding box.</summary>
    private IEnumerable<SamCandidate> Boxed(FrameState state, List<PromptPoint> points, Mat region)
    {
        var box = Cv2.BoundingRect(region);
        var inverse = 1f / state.WorkScale;
        var boxed = points.Concat([
            new PromptPoint(box.Left * inverse, box.Top * inverse, 2),
            new PromptPoint(box.Right * inverse, box.Bottom * inverse, 3)]).ToList();
        var candidates = models.Decoder.Decode(state.Embedding, boxed, null, state.WorkSize);
        foreach (var c in candidates.Skip(1)) c.Dispose();
        return candidates.Take(1);
    }

    /// <summary>
    /// The pixels that move of their own (<see cref="MovingRegion"/>), at working size, or none where more than half
    /// the frame does (the camera's motion was not found, and motion says nothing of the element).
    /// </summary>
    private static byte[] Moving(Mat frame, Mat later, Size workSize)
    {
        using var moving = MovingRegion.Moving(frame, later, workSize);
        if (Cv2.CountNonZero(moving) > moving.Width * moving.Height / 2) return [];
        var bytes = new byte[workSize.Width * workSize.Height];
        Marshal.Copy(moving.Data, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>
    /// The region of <paramref name="pixels"/> (255 = in) connected to the click, or null where the click is not in it
    /// (then the cue says nothing about this element).
    /// </summary>
    private static Mat? RegionUnder(byte[] pixels, FrameState state, int cx, int cy)
    {
        if (pixels.Length == 0 || pixels[cy * state.WorkSize.Width + cx] == 0) return null;
        using var binary = ToMat(pixels, state.WorkSize);
        using var labels = new Mat();
        Cv2.ConnectedComponents(binary, labels, PixelConnectivity.Connectivity8);
        var region = new Mat();
        Cv2.Compare(labels, Scalar.All(labels.At<int>(cy, cx)), region, CmpTypes.EQ);
        return region;
    }

    /// <summary>
    /// The region, or none where it is a speck: a cue region of a few pixels agrees perfectly with a speck-sized
    /// candidate and would make the first click select the speck.
    /// </summary>
    private Mat? Sizeable(Mat? region, FrameState state)
    {
        if (region == null || Cv2.CountNonZero(region) >= _options.MinCueRegion * state.WorkSize.Width * state.WorkSize.Height) return region;
        region.Dispose();
        return null;
    }

    /// <summary>
    /// A correction may only add (include) or take away (exclude), and only the region connected to its click: a
    /// person who fixes one part does not expect another part to change.
    /// </summary>
    private byte[] Monotone(FrameState state, byte[] previous, byte[] proposed, Click last, List<Click> prefix, bool fromPrior)
    {
        int w = state.WorkSize.Width, h = state.WorkSize.Height;
        int cx = Col(last, state), cy = Row(last, state);
        var at = cy * w + cx;
        var next = (byte[])previous.Clone();
        var within = Reach(previous, cx, cy, last.Include, w, h);
        if (last.Include)
        {
            var added = new byte[previous.Length];
            for (var i = 0; i < added.Length; i++) added[i] = proposed[i] != 0 && previous[i] == 0 && within[i] != 0 ? (byte)255 : (byte)0;
            added[at] = 255;
            var ids = Components(added, w, h);
            // The new region joins with what of it touches the click's component, plus what the refined mask keeps.
            for (var i = 0; i < next.Length; i++) if (ids[i] == ids[at]) next[i] = 255;
            return next;
        }
        var dropped = new byte[previous.Length];
        for (var i = 0; i < dropped.Length; i++) dropped[i] = previous[i] != 0 && proposed[i] == 0 && within[i] != 0 ? (byte)255 : (byte)0;
        if (previous[at] != 0) dropped[at] = 255;
        var droppedIds = Components(dropped, w, h);
        for (var i = 0; i < next.Length; i++) if (droppedIds[at] > 0 && droppedIds[i] == droppedIds[at]) next[i] = 0;
        // Only what stays connected to an include click remains; a prior's parts are the element's without a click.
        if (fromPrior) return next;
        var keptIds = Components(next, w, h);
        var keep = prefix.Where(c => c.Include).Select(c => keptIds[Row(c, state) * w + Col(c, state)]).Where(i => i > 0).ToHashSet();
        for (var i = 0; i < next.Length; i++) next[i] = keep.Contains(keptIds[i]) ? (byte)255 : (byte)0;
        return next;
    }

    /// <summary>
    /// Whether the decoder's refined mask changes the selection mostly near the click: what it drops or adds beyond
    /// the click's reach stays under a share of the selection. Then it is taken whole, edges refined everywhere;
    /// otherwise the correction falls back to its local, monotone form.
    /// </summary>
    private bool StaysLocal(FrameState state, byte[] previous, byte[] proposed, Click last)
    {
        int w = state.WorkSize.Width, h = state.WorkSize.Height;
        var within = Reach(previous, Col(last, state), Row(last, state), last.Include, w, h);
        int area = 0, lost = 0, gained = 0;
        for (var i = 0; i < previous.Length; i++)
        {
            if (previous[i] != 0) area++;
            if (within[i] != 0) continue;
            if (previous[i] != 0 && proposed[i] == 0) lost++;
            else if (previous[i] == 0 && proposed[i] != 0) gained++;
        }
        return lost <= _options.FarChange * area && gained <= _options.FarChange * area;
    }

    /// <summary>
    /// Where a correction may act: within a share of the selection's extent (its bounding-box diagonal) from the click
    /// and within a multiple of the click's gap to the selection's edge, plus a margin. A click on a small missed part
    /// cannot then flood the frame, and a click on a small leak cannot take half the element with it.
    /// </summary>
    private byte[] Reach(byte[] previous, int x, int y, bool include, int w, int h)
    {
        using var selection = ToMat(previous, new Size(w, h));
        var box = Cv2.BoundingRect(selection);
        var extent = _options.Reach * Math.Sqrt((double)box.Width * box.Width + (double)box.Height * box.Height);
        using var from = new Mat();
        if (include) Cv2.BitwiseNot(selection, from); else selection.CopyTo(from);
        using var distance = new Mat();
        Cv2.DistanceTransform(from, distance, DistanceTypes.L2, DistanceTransformMasks.Mask5);
        var gap = distance.At<float>(y, x);
        var radius = (int)Math.Ceiling((_options.GapReach > 0 ? Math.Min(extent, _options.GapReach * gap) : extent) + 0.02 * w);
        using var disc = new Mat(h, w, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Circle(disc, new Point(x, y), radius, Scalar.All(255), -1);
        var bytes = new byte[w * h];
        Marshal.Copy(disc.Data, bytes, 0, bytes.Length);
        return bytes;
    }

    private static bool Fits(SamCandidate candidate, Click click, FrameState state) =>
        (candidate.Logits.At<float>(Row(click, state), Col(click, state)) > 0) == click.Include;

    private FrameState State(Mat frame, string? key)
    {
        if (key != null && _cache.TryGet(key, out var cached) && cached.FrameSize == frame.Size()) return cached;
        var scale = Math.Min(1.0, _options.DecodeSide / (double)Math.Max(frame.Width, frame.Height));
        var work = new Size(Math.Max(1, (int)Math.Round(frame.Width * scale)), Math.Max(1, (int)Math.Round(frame.Height * scale)));
        var embedding = models.Encoder.Encode(frame);
        using var saliency = models.Saliency.Predict(frame, work);
        using var salient = new Mat();
        Cv2.Threshold(saliency, salient, 0.5, 255, ThresholdTypes.Binary);
        salient.ConvertTo(salient, MatType.CV_8UC1);
        var salientBytes = new byte[work.Width * work.Height];
        Marshal.Copy(salient.Data, salientBytes, 0, salientBytes.Length);
        var state = new FrameState(embedding, salientBytes, frame.Size(), work);
        if (key != null) _cache.Put(key, state);
        return state;
    }

    private static PromptPoint Point(Click c, FrameState state) =>
        new((float)(c.X * state.FrameSize.Width), (float)(c.Y * state.FrameSize.Height), c.Include ? 1 : 0);

    private static int Col(Click c, FrameState state) => Math.Clamp((int)(c.X * state.WorkSize.Width), 0, state.WorkSize.Width - 1);
    private static int Row(Click c, FrameState state) => Math.Clamp((int)(c.Y * state.WorkSize.Height), 0, state.WorkSize.Height - 1);

    private static byte[] Bytes(SamCandidate candidate, Size size)
    {
        using var mask = candidate.Binary();
        var bytes = new byte[size.Width * size.Height];
        Marshal.Copy(mask.Data, bytes, 0, bytes.Length);
        return bytes;
    }

    private static Mat ToMat(byte[] mask, Size size)
    {
        var mat = new Mat(size.Height, size.Width, MatType.CV_8UC1);
        Marshal.Copy(mask, 0, mat.Data, mask.Length);
        return mat;
    }

    private static int[] Components(byte[] mask, int w, int h)
    {
        using var mat = ToMat(mask, new Size(w, h));
        using var labels = new Mat();
        Cv2.ConnectedComponents(mat, labels, PixelConnectivity.Connectivity8);
        var ids = new int[w * h];
        Marshal.Copy(labels.Data, ids, 0, ids.Length);
        return ids;
    }

    /// <summary>What a frame needs for its clicks: its embedding, its salient pixels and the memoised click prefixes.</summary>
    private sealed class FrameState(SamEmbedding embedding, byte[] salient, Size frameSize, Size workSize)
    {
        public SamEmbedding Embedding { get; } = embedding;
        /// <summary>255 where the saliency network sees the image's subject, at working size.</summary>
        public byte[] Salient { get; } = salient;
        public Size FrameSize { get; } = frameSize;
        public Size WorkSize { get; } = workSize;
        public float WorkScale => WorkSize.Width / (float)FrameSize.Width;
        public Dictionary<string, Step> Memo { get; } = [];
        /// <summary>255 where the frame moves of its own towards a later frame, at working size; empty where that says nothing; null until a later frame is given.</summary>
        public byte[]? Moving { get; set; }
    }
}
