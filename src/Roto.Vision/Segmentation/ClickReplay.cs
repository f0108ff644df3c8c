namespace Roto.Vision.Segmentation;

/// <summary>
/// Makes corrections monotone: the clicks are replayed in order, and each include click may only add the region it
/// lands in (connected to it), each exclude click may only take away. A fresh cut over all clicks alone would let a
/// later include click, whose appearance drags the model towards the background, drop parts that were right, which a
/// person sees as the selection falling apart while they fix it. Stateless: the same clicks give the same labels, and
/// the labels of each prefix are memoised on the frame's analysis so a further click costs one cut.
/// </summary>
public sealed class ClickReplay(Func<FrameAnalysis, IReadOnlyList<Click>, bool[]> cut, Func<FrameAnalysis, IReadOnlyList<Click>, bool[]>? limit, double reach)
{
    public bool[] Label(FrameAnalysis frame, IReadOnlyList<Click> clicks)
    {
        bool[]? labels = null;
        for (var k = 1; k <= clicks.Count; k++)
        {
            var key = PrefixKey(frame, clicks, k);
            if (frame.Memo.TryGetValue(key, out var memo)) { labels = memo; continue; }
            labels = Step(frame, clicks, k, labels);
            frame.Memo[key] = labels;
        }
        return labels == null ? new bool[frame.Count] : (bool[])labels.Clone();
    }

    private bool[] Step(FrameAnalysis frame, IReadOnlyList<Click> clicks, int k, bool[]? previous)
    {
        var prefix = clicks.Take(k).ToList();
        var includes = prefix.Where(c => c.Include).Select(frame.SuperpixelAt).ToHashSet();
        if (includes.Count == 0) return new bool[frame.Count];
        var current = cut(frame, prefix);
        if (previous == null || !previous.Any(l => l)) return current;

        var last = prefix[^1];
        var at = frame.SuperpixelAt(last);
        var next = (bool[])previous.Clone();
        if (last.Include)
        {
            // The region the click lands in, as the new cut sees it, joins the selection.
            if (limit != null)
            {
                var near = limit(frame, [.. prefix.Where(c => !c.Include), last]);
                for (var s = 0; s < near.Length; s++) current[s] &= near[s];
            }
            if (reach > 0) KeepWithinReach(frame, previous, at, current);
            var region = Connected(frame, current, [at]);
            region[at] = true;
            for (var s = 0; s < next.Length; s++) next[s] |= region[s];
        }
        else
        {
            for (var s = 0; s < next.Length; s++) next[s] &= current[s];
            next[at] = false;
            next = Connected(frame, next, includes);
        }
        return next;
    }

    /// <summary>
    /// A missed part of an element lies beside the part already selected, so what an include click adds is kept
    /// within reach of the selection: no farther from the click than a share of the selection's extent (its
    /// bounding-box diagonal) plus a margin. Without it, a click on a small missed part whose appearance matches
    /// the background can flood the frame.
    /// </summary>
    private void KeepWithinReach(FrameAnalysis frame, bool[] selection, int at, bool[] candidate)
    {
        float minX = float.MaxValue, minY = float.MaxValue, maxX = float.MinValue, maxY = float.MinValue;
        for (var s = 0; s < selection.Length; s++)
        {
            if (!selection[s]) continue;
            var c = frame.Centroid[s];
            minX = Math.Min(minX, c.X); maxX = Math.Max(maxX, c.X); minY = Math.Min(minY, c.Y); maxY = Math.Max(maxY, c.Y);
        }
        var diagonal = Math.Sqrt((maxX - minX) * (maxX - minX) + (maxY - minY) * (maxY - minY));
        var radius = reach * diagonal + 0.05 * frame.WorkSize.Width;
        var centre = frame.Centroid[at];
        for (var s = 0; s < candidate.Length; s++)
        {
            var c = frame.Centroid[s];
            if ((c.X - centre.X) * (c.X - centre.X) + (c.Y - centre.Y) * (c.Y - centre.Y) > radius * radius) candidate[s] = false;
        }
    }

    /// <summary>The labelled superpixels connected to any of the seeds.</summary>
    public static bool[] Connected(FrameAnalysis frame, bool[] labels, IEnumerable<int> seeds)
    {
        var kept = new bool[labels.Length];
        var queue = new Queue<int>();
        foreach (var s in seeds) if (labels[s] && !kept[s]) { kept[s] = true; queue.Enqueue(s); }
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            foreach (var t in frame.Neighbours[s])
                if (labels[t] && !kept[t]) { kept[t] = true; queue.Enqueue(t); }
        }
        return kept;
    }

    private static string PrefixKey(FrameAnalysis frame, IReadOnlyList<Click> clicks, int k) =>
        string.Join(';', clicks.Take(k).Select(c => $"{frame.SuperpixelAt(c)}{(c.Include ? '+' : '-')}"));
}
