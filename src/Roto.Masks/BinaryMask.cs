namespace Roto.Masks;

/// <summary>
/// A binary mask in row-major order: one byte per pixel, 1 = selected, 0 = not.
/// </summary>
public sealed class BinaryMask
{
    public BinaryMask(int width, int height, byte[]? pixels = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        Width = width;
        Height = height;
        Pixels = pixels ?? new byte[checked(width * height)];
        if (Pixels.Length != width * height)
            throw new ArgumentException($"expected {width * height} pixels, got {Pixels.Length}", nameof(pixels));
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Row-major pixels, 0 or 1.</summary>
    public byte[] Pixels { get; }

    public bool this[int x, int y]
    {
        get => Pixels[y * Width + x] != 0;
        set => Pixels[y * Width + x] = value ? (byte)1 : (byte)0;
    }

    public int Area()
    {
        var n = 0;
        foreach (var p in Pixels) if (p != 0) n++;
        return n;
    }

    public bool IsEmpty => Array.IndexOf(Pixels, (byte)1) < 0;

    /// <summary>Builds a mask from any byte plane where non-zero means selected (e.g. a 0/255 image).</summary>
    public static BinaryMask FromNonZero(int width, int height, ReadOnlySpan<byte> plane)
    {
        var mask = new BinaryMask(width, height);
        for (var i = 0; i < mask.Pixels.Length; i++) mask.Pixels[i] = plane[i] != 0 ? (byte)1 : (byte)0;
        return mask;
    }

    /// <summary>The plane as 0/255 bytes, as images and OpenCV expect.</summary>
    public byte[] ToPlane255()
    {
        var plane = new byte[Pixels.Length];
        for (var i = 0; i < plane.Length; i++) plane[i] = Pixels[i] != 0 ? (byte)255 : (byte)0;
        return plane;
    }

    public bool SameAs(BinaryMask other) =>
        other.Width == Width && other.Height == Height && Pixels.AsSpan().SequenceEqual(other.Pixels);

    /// <summary>Intersection over union; two empty masks count as identical (1).</summary>
    public double IoU(BinaryMask other)
    {
        if (other.Width != Width || other.Height != Height) throw new ArgumentException("mask sizes differ");
        long inter = 0, union = 0;
        for (var i = 0; i < Pixels.Length; i++)
        {
            var a = Pixels[i] != 0; var b = other.Pixels[i] != 0;
            if (a && b) inter++;
            if (a || b) union++;
        }
        return union == 0 ? 1.0 : (double)inter / union;
    }
}
