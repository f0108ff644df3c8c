using System.Numerics.Tensors;

namespace Roto.Vision.Segmentation;

/// <summary>
/// Labels the superpixels of a frame from clicks: a graph cut whose appearance term compares each superpixel's
/// descriptor with foreground and background cluster centres (as in Lazy Snapping), re-estimated from the cut a few
/// times (as in GrabCut), blended with a linear probe fitted on the previous cut. Include clicks are hard foreground,
/// exclude clicks hard background, and the frame's edge is the background model. Only regions connected to an include
/// click are kept.
/// </summary>
public sealed class SuperpixelCut(FeatureGraphOptions options)
{
    private const int ForegroundClusters = 5;
    private const int BackgroundClusters = 10;
    private const double Hard = 1e9;

    public bool[] Label(FrameAnalysis frame, IReadOnlyList<Click> clicks)
    {
        var n = frame.Count;
        // A later click on the same superpixel wins: the user corrected an earlier one.
        var exclude = new HashSet<int>();
        var seedLabel = new Dictionary<int, bool>();
        foreach (var c in clicks) seedLabel[frame.SuperpixelAt(c)] = c.Include;
        List<int> include = [.. seedLabel.Where(kv => kv.Value).Select(kv => kv.Key)];
        foreach (var kv in seedLabel.Where(kv => !kv.Value)) exclude.Add(kv.Key);
        if (include.Count == 0) return new bool[n];

        var pairCost = PairCosts(frame);
        var meanArea = frame.Area.Average();

        var table = DescriptorTable(frame, clicks.Count == 1);
        var length = frame.DescriptorLength;
        ReadOnlySpan<float> Descriptor(int s) => table.AsSpan(s * length, length);
        var fg = new DescriptorClusters(table, length);
        foreach (var s in include) fg.Add(Descriptor(s));
        var bg = new DescriptorClusters(table, length);
        foreach (var s in exclude) bg.Add(Descriptor(s));
        var border = Enumerable.Range(0, n).Where(s => frame.OnBorder[s] && !seedLabel.ContainsKey(s)).ToList();
        bg.AddKMeans(border, BackgroundClusters);

        var labels = new bool[n];
        double[]? probe = null;
        for (var iteration = 0; iteration < Math.Max(1, options.Iterations); iteration++)
        {
            var flow = new MaxFlow(n);
            for (var s = 0; s < n; s++)
            {
                if (seedLabel.TryGetValue(s, out var isInclude))
                {
                    flow.AddTerminal(s, isInclude ? Hard : 0, isInclude ? 0 : Hard);
                    continue;
                }
                var d = Descriptor(s);
                var dF = fg.Distance(d);
                var dB = bg.Distance(d);
                var weight = frame.Area[s] / meanArea;
                var appearance = dF + dB > 0 ? dF / (dF + dB) : 0.5; // cost of foreground grows with distance to the foreground model
                if (probe != null) appearance = (1 - options.ProbeWeight) * appearance + options.ProbeWeight * (1 - probe[s]);
                flow.AddTerminal(s, weight * (1 - appearance), weight * appearance);
            }
            foreach (var (a, b, cost) in pairCost) flow.AddPair(a, b, cost);
            labels = KeepConnected(frame, flow.Solve(), include);

            if (iteration + 1 >= options.Iterations) break;
            if (options.ProbeWeight > 0)
            {
                // Clicks and the frame's edge are surer than the cut's own labels.
                var sampleWeights = new double[n];
                var probeLabels = (bool[])labels.Clone();
                for (var s = 0; s < n; s++) sampleWeights[s] = frame.Area[s];
                foreach (var s in border) if (!labels[s]) sampleWeights[s] *= 3;
                foreach (var (s, isInclude) in seedLabel) { probeLabels[s] = isInclude; sampleWeights[s] *= 10; }
                probe = LinearProbe.Fit(frame, probeLabels, sampleWeights, options.Ridge);
            }
            fg = new DescriptorClusters(table, length);
            foreach (var s in include) fg.Add(Descriptor(s));
            fg.AddKMeans([.. Enumerable.Range(0, n).Where(s => labels[s])], ForegroundClusters);
            bg = new DescriptorClusters(table, length);
            foreach (var s in exclude) bg.Add(Descriptor(s));
            // The background model keeps to what is surely background: the frame's edge outside the element and
            // the surroundings of exclude clicks. Learning it from everything the cut left out would teach it the
            // parts of the element still missing, and later include clicks could not win them back.
            var sureBackground = border.Concat(exclude.SelectMany(s => frame.Neighbours[s].Append(s))).Where(s => !labels[s]).Distinct().ToList();
            bg.AddKMeans(sureBackground.Count > 0 ? sureBackground : border, BackgroundClusters);
        }
        return labels;
    }

    /// <summary>
    /// The descriptors the appearance models compare. A frame's first click gives one superpixel to learn the element
    /// from, and its colour can be a poor guide to the rest of the element (a red shirt is not the whole dancer), so
    /// that cut may weigh colour at <see cref="FeatureGraphOptions.FirstClickColourWeight"/> instead (see there for
    /// what it changes on the benchmarks).
    /// </summary>
    private float[] DescriptorTable(FrameAnalysis frame, bool firstClick)
    {
        if (!firstClick || options.ColourWeight <= 0 || options.FirstClickColourWeight == options.ColourWeight) return frame.Descriptors;
        var table = (float[])frame.Descriptors.Clone();
        var scale = options.FirstClickColourWeight / options.ColourWeight;
        for (var s = 0; s < frame.Count; s++)
            for (var c = 0; c < FrameAnalyzer.ColourDimensions; c++) table[s * frame.DescriptorLength + c] *= scale;
        return table;
    }

    /// <summary>
    /// Smoothness across each shared boundary: cutting a long boundary with little colour contrast across it is
    /// expensive (the contrast-sensitive term of GrabCut, summed along superpixel boundaries).
    /// </summary>
    private List<(int A, int B, double Cost)> PairCosts(FrameAnalysis frame)
    {
        if (frame.Edges.Count == 0) return [];
        var meanContrast = Math.Max(1e-6, frame.Edges.Average(e => (double)e.Contrast));
        var meanLength = frame.Edges.Average(e => (double)e.Length);
        var beta = 1.0 / (2 * meanContrast);
        return [.. frame.Edges.Select(e => (e.A, e.B, options.Smoothness * e.Length / meanLength * Math.Exp(-beta * e.Contrast)))];
    }

    /// <summary>Keeps the foreground superpixels connected to an include click.</summary>
    private static bool[] KeepConnected(FrameAnalysis frame, bool[] foreground, IReadOnlyList<int> include)
    {
        var kept = new bool[foreground.Length];
        var queue = new Queue<int>();
        foreach (var s in include) if (foreground[s] && !kept[s]) { kept[s] = true; queue.Enqueue(s); }
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            foreach (var t in frame.Neighbours[s])
                if (foreground[t] && !kept[t]) { kept[t] = true; queue.Enqueue(t); }
        }
        return kept;
    }
}
