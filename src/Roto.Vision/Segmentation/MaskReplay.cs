using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Roto.Vision.Segmentation;

/// <summary>
/// The same monotone replay as <see cref="ClickReplay"/>, at pixel level after edge refinement: each include click
/// adds the refined region it lands in to the previous mask, each exclude click takes away the region it lands in, so
/// refining the edges again with more seeds cannot make a correct part fall out or a far region flood in. Masks are at working
/// resolution, memoised per click prefix on the frame's analysis.
/// </summary>
public sealed class MaskReplay(Func<FrameAnalysis, IReadOnlyList<Click>, Mat> refine, double reach, double gapReach)
{
    /// <returns>CV_8UC1 0/255 at working resolution; the caller disposes it.</returns>
    public Mat Mask(FrameAnalysis frame, IReadOnlyList<Click> clicks)
    {
        int w = frame.WorkSize.Width, h = frame.WorkSize.Height;
        byte[]? mask = null;
        for (var k = 1; k <= clicks.Count; k++)
        {
            var key = string.Join(';', clicks.Take(k).Select(c => $"{frame.ColOf(c)},{frame.RowOf(c)}{(c.Include ? '+' : '-')}"));
            if (frame.MaskMemo.TryGetValue(key, out var memo)) { mask = memo; continue; }
            mask = Step(frame, clicks.Take(k).ToList(), mask);
            frame.MaskMemo[key] = mask;
        }
        var result = new Mat(h, w, MatType.CV_8UC1, Scalar.All(0));
        if (mask != null) Marshal.Copy(mask, 0, result.Data, mask.Length);
        return result;
    }

    private byte[] Step(FrameAnalysis frame, List<Click> prefix, byte[]? previous)
    {
        int w = frame.WorkSize.Width, h = frame.WorkSize.Height;
        var includes = prefix.Where(c => c.Include).ToList();
        if (includes.Count == 0) return new byte[w * h];
        using var refined = refine(frame, prefix);
        var current = new byte[w * h];
        Marshal.Copy(refined.Data, current, 0, current.Length);
        if (previous == null || Array.IndexOf(previous, (byte)255) < 0) return current;
        return prefix[^1].Include ? Add(frame, prefix[^1], previous, current) : Remove(frame, prefix[^1], includes, previous, current);
    }

    /// <summary>
    /// The refined region under an include click joins; where the refinement left the click's own spot out, its
    /// superpixel joins instead, so a click always adds what it points at.
    /// </summary>
    private byte[] Add(FrameAnalysis frame, Click click, byte[] previous, byte[] current)
    {
        int w = frame.WorkSize.Width, h = frame.WorkSize.Height;
        var at = frame.SuperpixelAt(click);
        var atPixel = frame.RowOf(click) * w + frame.ColOf(click);
        if (current[atPixel] == 0)
            for (var i = 0; i < current.Length; i++) if (frame.Labels[i] == at) current[i] = 255;
        using var candidate = ToMat(current, w, h);
        if (reach > 0) KeepWithinReach(previous, frame.ColOf(click), frame.RowOf(click), candidate, inside: false, w, h);
        var next = (byte[])previous.Clone();
        var ids = Components(candidate);
        var id = ids[atPixel];
        for (var i = 0; i < next.Length; i++) if (ids[i] == id && id > 0) next[i] = 255;
        return next;
    }

    /// <summary>
    /// The region an exclude click lands in, as the new cut drops it, leaves the mask; what the cut drops elsewhere
    /// stays, since a background model that learnt the clicked colours may drop far parts of the element too. Then
    /// only what stays connected to an include click remains.
    /// </summary>
    private byte[] Remove(FrameAnalysis frame, Click click, IReadOnlyList<Click> includes, byte[] previous, byte[] current)
    {
        int w = frame.WorkSize.Width, h = frame.WorkSize.Height;
        var atPixel = frame.RowOf(click) * w + frame.ColOf(click);
        var dropped = new byte[w * h];
        for (var i = 0; i < dropped.Length; i++) dropped[i] = previous[i] != 0 && current[i] == 0 ? (byte)255 : (byte)0;
        dropped[atPixel] = 255;
        using var droppedMat = ToMat(dropped, w, h);
        var droppedIds = Components(droppedMat);
        var region = droppedIds[atPixel];
        for (var i = 0; i < dropped.Length; i++) dropped[i] = droppedIds[i] == region ? (byte)255 : (byte)0;
        using var removed = ToMat(dropped, w, h);
        if (reach > 0) KeepWithinReach(previous, frame.ColOf(click), frame.RowOf(click), removed, inside: true, w, h);
        Marshal.Copy(removed.Data, dropped, 0, dropped.Length);

        var next = (byte[])previous.Clone();
        for (var i = 0; i < next.Length; i++) if (dropped[i] != 0) next[i] = 0;
        using var nextMat = ToMat(next, w, h);
        var ids = Components(nextMat);
        var keep = includes.Select(c => ids[frame.RowOf(c) * w + frame.ColOf(c)]).Where(i => i > 0).ToHashSet();
        for (var i = 0; i < next.Length; i++) next[i] = keep.Contains(ids[i]) ? (byte)255 : (byte)0;
        return next;
    }

    /// <summary>
    /// A missed part lies beside the part already selected, and a person clicks inside it; a false part likewise.
    /// What a click adds or takes away stays within a share of the selection's extent (its bounding-box diagonal)
    /// from the click and within a multiple of the click's gap to the selection's edge, plus a margin. A click on a
    /// small missed part whose colours match the background then cannot flood the frame (clients that send include
    /// points only cannot take a flood back), and a click on a small leak cannot take half the element with it.
    /// </summary>
    private void KeepWithinReach(byte[] previous, int x, int y, Mat candidate, bool inside, int w, int h)
    {
        using var selection = ToMat(previous, w, h);
        var box = Cv2.BoundingRect(selection);
        var extent = reach * Math.Sqrt((double)box.Width * box.Width + (double)box.Height * box.Height);
        var gap = GapToEdge(selection, x, y, inside);
        var radius = (int)Math.Ceiling((gapReach > 0 ? Math.Min(extent, gapReach * gap) : extent) + 0.02 * w);
        using var disc = new Mat(h, w, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Circle(disc, new Point(x, y), radius, Scalar.All(255), -1);
        Cv2.BitwiseAnd(candidate, disc, candidate);
    }

    /// <summary>Distance in working pixels from (x, y) to the nearest selected pixel, or with <paramref name="inside"/> to the nearest unselected one.</summary>
    private static double GapToEdge(Mat selection, int x, int y, bool inside)
    {
        using var from = new Mat();
        if (inside) selection.CopyTo(from); else Cv2.BitwiseNot(selection, from);
        using var distance = new Mat();
        Cv2.DistanceTransform(from, distance, DistanceTypes.L2, DistanceTransformMasks.Mask5);
        return distance.At<float>(y, x);
    }

    private static Mat ToMat(byte[] mask, int w, int h)
    {
        var mat = new Mat(h, w, MatType.CV_8UC1);
        Marshal.Copy(mask, 0, mat.Data, mask.Length);
        return mat;
    }

    /// <summary>8-connected component id per pixel, row-major; 0 = not set.</summary>
    private static int[] Components(Mat binary)
    {
        using var labels = new Mat();
        Cv2.ConnectedComponents(binary, labels, PixelConnectivity.Connectivity8);
        var ids = new int[binary.Rows * binary.Cols];
        Marshal.Copy(labels.Data, ids, 0, ids.Length);
        return ids;
    }
}
