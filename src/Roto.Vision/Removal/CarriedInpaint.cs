using OpenCvSharp;

namespace Roto.Vision.Removal;

/// <summary>
/// Fills what no frame ever shows: spatial (Telea) inpainting on a keyframe, then the same pixels carried
/// along the camera path to later frames, so the invented background stays put instead of being re-invented
/// (and flickering) on every frame. A new keyframe is inpainted only where the carried fill does not reach,
/// with the carried part held fixed, so nothing already shown changes; or wholly afresh once the hole's
/// surroundings no longer look as they did on the keyframe (a background that moves of its own: water, foliage,
/// people), since a fill carried there no longer matches what is around it.
/// </summary>
/// <param name="staleAfter">
/// Mean grey-level change (0–255) of the background around the hole since the keyframe, the camera's motion taken
/// out, above which the hole is inpainted afresh.
/// </param>
public sealed class CarriedInpaint(double staleAfter = CarriedInpaint.DefaultStaleAfter) : IDisposable
{
    /// <summary>
    /// The removal bench with the true masks (six composites, region PSNR, 2026-12-06): always carried 22.59 dB, never
    /// carried 23.09; afresh above 15 → 22.96, 8 → 23.04, 4 → 23.13. The composites whose backgrounds move of their
    /// own gain (car-shadow → bedroom 17.07 → 19.18 dB, horsejump-high → bigbuckbunny 14.66 → 15.10 at 8), and a still
    /// background keeps its fill: around dance-twirl's hole on 01_dog the surroundings change by 2–5 grey levels from
    /// the keyframe, and its flicker is 3.32 carried, 3.32 at 8, 4.20 never carried. 8 leaves room for the noise of
    /// real, compressed clips.
    /// </summary>
    public const double DefaultStaleAfter = 8;

    /// <summary>Fewer known background pixels than this around the hole say nothing about its surroundings.</summary>
    private const int MinSurroundingPixels = 30;

    private Mat? _content;
    private Mat? _covered;
    private Mat? _surroundings;
    private Mat? _keyHole;
    private Rect _box;
    private int _keyIndex = -1;

    /// <summary>Frames that were inpainted afresh (for diagnostics and tests).</summary>
    public int Keyframes { get; private set; }

    /// <summary>
    /// Completes <paramref name="fill"/> (BGR, the size of <paramref name="box"/>) where <paramref name="missing"/> is set.
    /// </summary>
    /// <param name="frame">The whole frame being completed; the known background around the hole comes from it.</param>
    /// <param name="box">Where hole/fill/missing lie in the frame.</param>
    /// <param name="hole">The whole hole in the box; <paramref name="fill"/> is valid on it except where <paramref name="missing"/>.</param>
    /// <param name="path">Camera path, to bring the keyframe's pixels to this frame.</param>
    public void Complete(int index, Mat frame, Rect box, Mat hole, Mat fill, Mat missing, CameraPath path)
    {
        using var stillMissing = missing.Clone();
        if (_content != null && _covered != null)
        {
            using var toHere = MapToBox(path.Map(_keyIndex, index), box).ToMat();
            if (!SurroundingsChanged(frame, box, hole, toHere))
            {
                using var carried = new Mat();
                using var reach = new Mat();
                Cv2.WarpPerspective(_content, carried, toHere, box.Size, InterpolationFlags.Linear, BorderTypes.Constant);
                Cv2.WarpPerspective(_covered, reach, toHere, box.Size, InterpolationFlags.Nearest, BorderTypes.Constant);
                using var use = new Mat();
                Cv2.BitwiseAnd(stillMissing, reach, use);
                carried.CopyTo(fill, use);
                stillMissing.SetTo(Scalar.All(0), use);
            }
        }
        if (Cv2.CountNonZero(stillMissing) > 0) Inpaint(frame, box, hole, fill, missing, stillMissing, index);
    }

    /// <summary>
    /// Whether the background around the hole differs from the keyframe's, brought here by the camera path, by more
    /// than <c>staleAfter</c> on average: compared where both frames show background (outside both holes, in the box).
    /// </summary>
    private bool SurroundingsChanged(Mat frame, Rect box, Mat hole, Mat keyToHere)
    {
        using var then = new Mat();
        using var thenHole = new Mat();
        Cv2.WarpPerspective(_surroundings!, then, keyToHere, box.Size, InterpolationFlags.Linear, BorderTypes.Constant);
        // Outside the keyframe's box counts as its hole: nothing is known there.
        Cv2.WarpPerspective(_keyHole!, thenHole, keyToHere, box.Size, InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.All(255));
        using var known = new Mat();
        Cv2.BitwiseOr(hole, thenHole, known);
        Cv2.BitwiseNot(known, known);
        if (Cv2.CountNonZero(known) < MinSurroundingPixels) return false;
        using var now = frame[box];
        using var diff = new Mat();
        Cv2.Absdiff(now, then, diff);
        using var grey = new Mat();
        Cv2.CvtColor(diff, grey, ColorConversionCodes.BGR2GRAY);
        return Cv2.Mean(grey, known).Val0 > staleAfter;
    }

    /// <summary>The transform from the keyframe's box to this frame's box.</summary>
    private Homography MapToBox(Homography keyToFrame, Rect box) =>
        Homography.Translation(-box.X, -box.Y).After(keyToFrame).After(Homography.Translation(_box.X, _box.Y));

    private void Inpaint(Mat frame, Rect box, Mat hole, Mat fill, Mat missing, Mat stillMissing, int index)
    {
        // Context around the hole so Telea sees real background on every side.
        var margin = Math.Max(box.Width, box.Height) / 4 + 8;
        var context = new Rect(box.X - margin, box.Y - margin, box.Width + 2 * margin, box.Height + 2 * margin)
                      & new Rect(0, 0, frame.Width, frame.Height);
        using var work = frame[context].Clone();
        using var holeInWork = new Mat(context.Size, MatType.CV_8UC1, Scalar.All(0));
        var inner = new Rect(box.X - context.X, box.Y - context.Y, box.Width, box.Height);
        using (var workBox = work[inner]) fill.CopyTo(workBox, hole);
        using (var holeBox = holeInWork[inner]) stillMissing.CopyTo(holeBox);

        // Large holes are inpainted at a reduced size: Telea's cost grows with the hole's area and its result is
        // smooth anyway (half size above 20 000 pixels, a quarter above 80 000).
        var missingPixels = Cv2.CountNonZero(stillMissing);
        var shrink = missingPixels > 80000 ? 4 : missingPixels > 20000 ? 2 : 1;
        using var painted = new Mat();
        if (shrink > 1)
        {
            using var smallWork = new Mat();
            using var smallHole = new Mat();
            var size = new Size(Math.Max(1, work.Width / shrink), Math.Max(1, work.Height / shrink));
            Cv2.Resize(work, smallWork, size, 0, 0, InterpolationFlags.Area);
            Cv2.Resize(holeInWork, smallHole, size, 0, 0, InterpolationFlags.Linear);
            Cv2.Threshold(smallHole, smallHole, 0, 255, ThresholdTypes.Binary);
            using var smallPainted = new Mat();
            Cv2.Inpaint(smallWork, smallHole, smallPainted, 5, InpaintTypes.Telea);
            Cv2.Resize(smallPainted, painted, work.Size(), 0, 0, InterpolationFlags.Linear);
        }
        else
        {
            Cv2.Inpaint(work, holeInWork, painted, 5, InpaintTypes.Telea);
        }
        using (var paintedBox = painted[inner]) paintedBox.CopyTo(fill, stillMissing);

        _content?.Dispose();
        _covered?.Dispose();
        _surroundings?.Dispose();
        _keyHole?.Dispose();
        _content = fill.Clone();
        _covered = missing.Clone();
        using (var around = frame[box]) _surroundings = around.Clone();
        _keyHole = hole.Clone();
        _box = box;
        _keyIndex = index;
        Keyframes++;
    }

    public void Dispose()
    {
        _content?.Dispose();
        _covered?.Dispose();
        _surroundings?.Dispose();
        _keyHole?.Dispose();
    }
}
