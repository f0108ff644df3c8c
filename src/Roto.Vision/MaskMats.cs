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

    public static Mat ToMat(BinaryMask mask)
    {
        var mat = new Mat(mask.Height, mask.Width, MatType.CV_8UC1);
        var plane = mask.ToPlane255();
        System.Runtime.InteropServices.Marshal.Copy(plane, 0, mat.Data, plane.Length);
        return mat;
    }
}
