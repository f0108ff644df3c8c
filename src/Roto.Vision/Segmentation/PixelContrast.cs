namespace Roto.Vision.Segmentation;

/// <summary>
/// The contrast term of GrabCut's energy for one image: β = 1 / (2 · mean squared colour difference of neighbouring
/// pixels), and for each pixel the weight γ·exp(−β·|Δcolour|²) of its edges to the right, lower-left, lower and
/// lower-right neighbours (γ/√2 on the diagonals). It depends on the image alone, so a frame's clicks share it.
/// </summary>
public sealed class PixelContrast
{
    public const double Gamma = 50;

    /// <summary>The four forward neighbours of a pixel: (dx, dy).</summary>
    public static readonly (int Dx, int Dy)[] Forward = [(1, 0), (-1, 1), (0, 1), (1, 1)];

    private readonly float[] _weights;

    private PixelContrast(int width, int height, double beta, float[] weights)
    {
        Width = width;
        Height = height;
        Beta = beta;
        _weights = weights;
    }

    public int Width { get; }
    public int Height { get; }
    public double Beta { get; }
    public long Bytes => _weights.Length * 4L;

    /// <summary>The weight of the edge from pixel <paramref name="pixel"/> to its forward neighbour <paramref name="direction"/> (index into <see cref="Forward"/>).</summary>
    public float Weight(int pixel, int direction) => _weights[4 * pixel + direction];

    /// <param name="bgr">The image, 3 bytes per pixel, row-major.</param>
    public static PixelContrast Of(byte[] bgr, int width, int height)
    {
        double sum = 0;
        long count = 0;
        var squared = new float[4 * width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = y * width + x;
                for (var k = 0; k < 4; k++)
                {
                    var (dx, dy) = Forward[k];
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || nx >= width || ny >= height) continue;
                    var d = Distance2(bgr, i, ny * width + nx);
                    squared[4 * i + k] = (float)d;
                    sum += d;
                    count++;
                }
            }
        }
        var beta = sum <= double.Epsilon ? 0 : 1.0 / (2 * sum / count);
        var diagonal = Gamma / Math.Sqrt(2);
        var weights = new float[squared.Length];
        // Edges that leave the image keep a weight that nothing reads.
        for (var e = 0; e < weights.Length; e++)
            weights[e] = (float)((e % 4 is 1 or 3 ? diagonal : Gamma) * Math.Exp(-beta * squared[e]));
        return new PixelContrast(width, height, beta, weights);
    }

    private static double Distance2(byte[] colour, int a, int b)
    {
        double d0 = colour[3 * a] - colour[3 * b], d1 = colour[3 * a + 1] - colour[3 * b + 1], d2 = colour[3 * a + 2] - colour[3 * b + 2];
        return d0 * d0 + d1 * d1 + d2 * d2;
    }
}
