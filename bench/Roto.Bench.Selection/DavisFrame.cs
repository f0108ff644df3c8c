using System.Globalization;
using OpenCvSharp;

namespace Roto.Bench.Selection;

/// <summary>One frame of a davis16-dev sequence and its ground truth (0/255).</summary>
public static class DavisFrame
{
    /// <returns>The frame and its mask (the caller disposes both), or null when the sequence has no such frame or the element is not on it.</returns>
    public static (Mat Frame, Mat Truth)? Load(string root, string sequence, int index)
    {
        var file = index.ToString("00000", CultureInfo.InvariantCulture);
        var framePath = Path.Combine(root, sequence, "frames", file + ".jpg");
        if (!File.Exists(framePath)) return null;
        var truth = Cv2.ImRead(Path.Combine(root, sequence, "masks", file + ".png"), ImreadModes.Grayscale);
        Cv2.Threshold(truth, truth, 127, 255, ThresholdTypes.Binary);
        if (Cv2.CountNonZero(truth) == 0)
        {
            truth.Dispose();
            return null;
        }
        return (Cv2.ImRead(framePath), truth);
    }
}
