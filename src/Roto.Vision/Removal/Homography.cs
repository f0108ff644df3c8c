using OpenCvSharp;

namespace Roto.Vision.Removal;

/// <summary>
/// A 3×3 projective transform of image points (row-major). Plain arrays rather than Mats: products and
/// inverses are taken thousands of times per video and a native Mat per product would cost more than the maths.
/// </summary>
public sealed class Homography
{
    private readonly double[] _m;

    public Homography(double[] m)
    {
        if (m.Length != 9) throw new ArgumentException("a homography has 9 entries");
        _m = m;
    }

    public static Homography Identity { get; } = new([1, 0, 0, 0, 1, 0, 0, 0, 1]);

    public static Homography Translation(double dx, double dy) => new([1, 0, dx, 0, 1, dy, 0, 0, 1]);

    public static Homography Scale(double s) => new([s, 0, 0, 0, s, 0, 0, 0, 1]);

    public static Homography Scale(double sx, double sy) => new([sx, 0, 0, 0, sy, 0, 0, 0, 1]);

    /// <summary>Rotation by <paramref name="radians"/> and uniform scale about the origin.</summary>
    public static Homography Similarity(double scale, double radians, double dx, double dy)
    {
        double c = Math.Cos(radians) * scale, s = Math.Sin(radians) * scale;
        return new([c, -s, dx, s, c, dy, 0, 0, 1]);
    }

    public double this[int row, int col] => _m[row * 3 + col];

    /// <summary>Reads a 3×3 CV_64F Mat (as FindHomography returns it).</summary>
    public static Homography FromMat(Mat mat)
    {
        var m = new double[9];
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++)
                m[r * 3 + c] = mat.Rows == 2 && r == 2 ? (c == 2 ? 1 : 0) : mat.At<double>(r, c);
        return new Homography(m).Normalized();
    }

    public Mat ToMat()
    {
        var mat = new Mat(3, 3, MatType.CV_64FC1);
        mat.SetArray(_m);
        return mat;
    }

    /// <summary>This transform after <paramref name="first"/>: (this ∘ first)(p) = this(first(p)).</summary>
    public Homography After(Homography first)
    {
        var a = _m;
        var b = first._m;
        var r = new double[9];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                r[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
        return new Homography(r).Normalized();
    }

    public Homography Inverse()
    {
        var m = _m;
        var c00 = m[4] * m[8] - m[5] * m[7];
        var c01 = m[5] * m[6] - m[3] * m[8];
        var c02 = m[3] * m[7] - m[4] * m[6];
        var det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if (Math.Abs(det) < 1e-12) return Identity;
        var inv = new[]
        {
            c00, m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
            c01, m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
            c02, m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
        };
        for (var i = 0; i < 9; i++) inv[i] /= det;
        return new Homography(inv).Normalized();
    }

    public Point2d Apply(Point2d p)
    {
        var m = _m;
        var w = m[6] * p.X + m[7] * p.Y + m[8];
        if (Math.Abs(w) < 1e-12) w = 1e-12;
        return new Point2d((m[0] * p.X + m[1] * p.Y + m[2]) / w, (m[3] * p.X + m[4] * p.Y + m[5]) / w);
    }

    /// <summary>The same motion expressed for images <paramref name="factor"/> times larger.</summary>
    public Homography Rescaled(double factor) => Scale(factor).After(After(Scale(1 / factor)));

    /// <summary>How far the corners of a w×h image move: a sanity measure for estimated camera motion.</summary>
    public double MaxCornerShift(int w, int h)
    {
        Point2d[] corners = [new(0, 0), new(w, 0), new(0, h), new(w, h)];
        return corners.Max(c => Apply(c).DistanceTo(c));
    }

    /// <summary>The local scale of the transform around a point (square root of the Jacobian's determinant).</summary>
    public double ScaleAt(Point2d p)
    {
        var a = Apply(p);
        var bx = Apply(new Point2d(p.X + 1, p.Y));
        var by = Apply(new Point2d(p.X, p.Y + 1));
        var det = (bx.X - a.X) * (by.Y - a.Y) - (bx.Y - a.Y) * (by.X - a.X);
        return Math.Sqrt(Math.Abs(det));
    }

    private Homography Normalized()
    {
        var s = _m[8];
        if (Math.Abs(s) < 1e-12 || s == 1) return this;
        var r = new double[9];
        for (var i = 0; i < 9; i++) r[i] = _m[i] / s;
        return new Homography(r);
    }
}
