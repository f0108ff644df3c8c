using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Roto.Vision.Segmentation;

/// <summary>
/// The same monotone replay as <see cref="ClickReplay"/>, at pixel level after edge refinement: each include click
/// adds the refined region it lands in to the previous mask, each exclude click may only take away, so refining the
/// edges again with more seeds cannot make a correct part fall out or a far region flood in. Masks are at working
/// resolution, memoised per click prefix on the frame's analysis.
/// </summary>
public sealed class MaskReplay(Func<FrameAnalysis, IReadOnlyList<Click>, Mat> refine, double reach)
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

    /// <summary>
    /// A missed part lies beside the part already selected: what an include click adds stays within a share of the
    /// selection's extent (its bounding-box diagonal) from the click, plus a margin, so that a click on a small missed
    /// part whose colours match the background cannot flood the frame.
    /// </summary>
    private void KeepWithinReach(byte[] previous, int w, int h, int x, int y, Mat candidate)
    {
        using var selection = new Mat(h, w, MatType.CV_8UC1);
        Marshal.Copy(previous, 0, selection.Data, previous.Length);
        var box = Cv2.BoundingRect(selection);
        var radius = (int)Math.Ceiling(reach * Math.Sqrt((double)box.Width * box.Width + (double)box.Height * box.Height) + 0.02 * w);
        using var disc = new Mat(h, w, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Circle(disc, new Point(x, y), radius, Scalar.All(255), -1);
        Cv2.BitwiseAnd(candidate, disc, candidate);
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

        var last = prefix[^1];
        var next = (byte[])previous.Clone();
        if (last.Include)
        {
            // The refined region under the click joins; where the refinement left the click's own spot out, its
            // superpixel joins instead, so a click always adds what it points at.
            var at = frame.SuperpixelAt(last);
            var atPixel = frame.RowOf(last) * w + frame.ColOf(last);
            if (current[atPixel] == 0)
                for (var i = 0; i < current.Length; i++) if (frame.Labels[i] == at) current[i] = 255;
            using var labels = new Mat();
            using var currentMat = new Mat(h, w, MatType.CV_8UC1);
            Marshal.Copy(current, 0, currentMat.Data, current.Length);
            if (reach > 0) KeepWithinReach(previous, w, h, frame.ColOf(last), frame.RowOf(last), currentMat);
            Cv2.ConnectedComponents(currentMat, labels, PixelConnectivity.Connectivity8);
            var ids = new int[w * h];
            Marshal.Copy(labels.Data, ids, 0, ids.Length);
            var id = ids[atPixel];
            for (var i = 0; i < next.Length; i++) if (ids[i] == id && id > 0) next[i] = 255;
        }
        else
        {
            for (var i = 0; i < next.Length; i++) if (current[i] == 0) next[i] = 0;
            // Only what stays connected to an include click remains.
            using var nextMat = new Mat(h, w, MatType.CV_8UC1);
            Marshal.Copy(next, 0, nextMat.Data, next.Length);
            using var labels = new Mat();
            Cv2.ConnectedComponents(nextMat, labels, PixelConnectivity.Connectivity8);
            var ids = new int[w * h];
            Marshal.Copy(labels.Data, ids, 0, ids.Length);
            var keep = includes.Select(c => ids[frame.RowOf(c) * w + frame.ColOf(c)]).Where(i => i > 0).ToHashSet();
            for (var i = 0; i < next.Length; i++) next[i] = keep.Contains(ids[i]) ? (byte)255 : (byte)0;
        }
        return next;
    }
}
