using OpenCvSharp;
using Roto.Masks;

namespace Roto.Vision;

/// <summary>Moves masks between OpenCV planes (0/255) and <see cref="BinaryMask"/> (0/1).</summary>
public static class MaskMats
{
    public static unsafe BinaryMask ToBinaryMask(Mat mask)
    {
        if (mask.Type() != MatType.CV_8UC1) throw new ArgumentException("mask must be CV_8UC1");
        using var continuous = mask.IsContinuous() ? null : mask.Clone();
        var src = continuous ?? mask;
        var span = new ReadOnlySpan<byte>((void*)src.Data, src.Width * src.Height);
        return BinaryMask.FromNonZero(src.Width, src.Height, span);
    }

    /// <summary>Intersection over union of two 0/255 CV_8UC1 masks of one size; 0 when both are empty.</summary>
    public static double Iou(Mat a, Mat b)
    {
        using var inter = new Mat();
        using var union = new Mat();
        Cv2.BitwiseAnd(a, b, inter);
        Cv2.BitwiseOr(a, b, union);
        var u = Cv2.CountNonZero(union);
        return u == 0 ? 0 : Cv2.CountNonZero(inter) / (double)u;
    }

    /// <summary>The share of <paramref name="a"/>'s pixels that <paramref name="b"/> also holds; 0 when a is empty.</summary>
    public static double Within(Mat a, Mat b)
    {
        using var inter = new Mat();
        Cv2.BitwiseAnd(a, b, inter);
        var n = Cv2.CountNonZero(a);
        return n == 0 ? 0 : Cv2.CountNonZero(inter) / (double)n;
    }

    public static Mat ToMat(BinaryMask mask)
    {
        var mat = new Mat(mask.Height, mask.Width, MatType.CV_8UC1);
        var plane = mask.ToPlane255();
        System.Runtime.InteropServices.Marshal.Copy(plane, 0, mat.Data, plane.Length);
        return mat;
    }
}
