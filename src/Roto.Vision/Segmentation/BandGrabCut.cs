using OpenCvSharp;

namespace Roto.Vision.Segmentation;

/// <summary>
/// GrabCut (Rother, Kolmogorov and Blake 2004) with OpenCV's energy (five-component colour mixtures, contrast term
/// with β from the whole image, γ = 50), but with the graph built over the unknown pixels only. Written here because
/// OpenCV's GrabCut puts every pixel of the image in its graph, the sure background far from the band included, and a
/// later click spends most of its time there; cropping the image instead changes β and the colour models and so the
/// cut. A fixed pixel's edge to an unknown neighbour is folded into that neighbour's data term, which leaves the
/// minimum of the energy unchanged, and the colour models learn from a quarter of the sure background.
/// </summary>
public static class BandGrabCut
{
    /// <param name="bgr">The image, CV_8UC3.</param>
    /// <param name="classes">CV_8UC1 <see cref="GrabCutClasses"/>; the unknown pixels (PR_BGD, PR_FGD) are updated in place.</param>
    /// <param name="iterations">Rounds of learning the colour models and cutting.</param>
    /// <param name="seed">Seed of the k-means that starts the colour models, so the same input gives the same cut.</param>
    /// <param name="contrast">The image's contrast weights when already known (they depend on the image alone).</param>
    public static unsafe void Run(Mat bgr, Mat classes, int iterations, ulong seed, PixelContrast? contrast = null)
    {
        if (bgr.Type() != MatType.CV_8UC3 || classes.Type() != MatType.CV_8UC1 || bgr.Size() != classes.Size())
            throw new ArgumentException("expected a CV_8UC3 image and a CV_8UC1 class map of the same size");
        int w = bgr.Cols, h = bgr.Rows;
        var colour = new byte[w * h * 3];
        var cls = new byte[w * h];
        for (var y = 0; y < h; y++)
        {
            new ReadOnlySpan<byte>((byte*)bgr.Ptr(y), w * 3).CopyTo(colour.AsSpan(y * w * 3));
            new ReadOnlySpan<byte>((byte*)classes.Ptr(y), w).CopyTo(cls.AsSpan(y * w));
        }

        var unknown = new List<int>();
        for (var i = 0; i < cls.Length; i++) if (IsUnknown(cls[i])) unknown.Add(i);
        if (unknown.Count == 0 || iterations <= 0) return;

        if (contrast == null || contrast.Width != w || contrast.Height != h) contrast = PixelContrast.Of(colour, w, h);
        var background = new ColourMixture();
        var foreground = new ColourMixture();
        if (!InitialModels(colour, cls, w, h, seed, background, foreground)) return;

        var node = new int[w * h];
        Array.Fill(node, -1);
        for (var n = 0; n < unknown.Count; n++) node[unknown[n]] = n;
        for (var round = 0; round < iterations; round++)
        {
            Learn(colour, cls, w, h, background, foreground);
            Cut(colour, cls, w, h, unknown, node, contrast, background, foreground);
        }

        for (var y = 0; y < h; y++) new ReadOnlySpan<byte>(cls, y * w, w).CopyTo(new Span<byte>((byte*)classes.Ptr(y), w));
    }

    private static bool IsUnknown(byte c) => c == (byte)GrabCutClasses.PR_BGD || c == (byte)GrabCutClasses.PR_FGD;
    private static bool IsForeground(byte c) => c == (byte)GrabCutClasses.FGD || c == (byte)GrabCutClasses.PR_FGD;

    /// <summary>Background pixels used for learning: one in four (every other row and column); all foreground pixels.</summary>
    private static bool Sampled(byte c, int x, int y) => IsForeground(c) || ((x | y) & 1) == 0;

    /// <summary>Both colour models started by k-means (k-means++ seeding, ten rounds, as OpenCV); false when a side has no pixels.</summary>
    private static bool InitialModels(byte[] colour, byte[] cls, int w, int h, ulong seed, ColourMixture background, ColourMixture foreground)
    {
        var bg = new List<int>();
        var fg = new List<int>();
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                if (!Sampled(cls[i], x, y)) continue;
                (IsForeground(cls[i]) ? fg : bg).Add(i);
            }
        if (bg.Count < ColourMixture.Components || fg.Count < ColourMixture.Components) return false;
        Cv2.SetTheRNG(seed);
        Cluster(colour, bg, background);
        Cluster(colour, fg, foreground);
        return true;
    }

    private static unsafe void Cluster(byte[] colour, List<int> pixels, ColourMixture model)
    {
        using var samples = new Mat(pixels.Count, 3, MatType.CV_32FC1);
        var data = (float*)samples.Data;
        for (var n = 0; n < pixels.Count; n++)
            for (var c = 0; c < 3; c++) data[3 * n + c] = colour[3 * pixels[n] + c];
        using var labels = new Mat();
        using var centres = new Mat();
        Cv2.Kmeans(samples, ColourMixture.Components, labels, new TermCriteria(CriteriaTypes.MaxIter, 10, 0), 1, KMeansFlags.PpCenters, centres);
        model.BeginLearning();
        var assigned = (int*)labels.Data;
        for (var n = 0; n < pixels.Count; n++) model.Add(assigned[n], colour, pixels[n]);
        model.EndLearning();
    }

    /// <summary>Each sampled pixel to its likeliest component of its side's model, then both models re-estimated.</summary>
    private static void Learn(byte[] colour, byte[] cls, int w, int h, ColourMixture background, ColourMixture foreground)
    {
        // Assignment reads the current estimates, learning only the sums, so one object serves both.
        background.BeginLearning();
        foreground.BeginLearning();
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                if (!Sampled(cls[i], x, y)) continue;
                if (IsForeground(cls[i])) foreground.Add(foreground.LikeliestComponent(colour, i), colour, i);
                else background.Add(background.LikeliestComponent(colour, i), colour, i);
            }
        background.EndLearning();
        foreground.EndLearning();
    }

    /// <summary>The eight neighbours as (dx, dy, the pixel that owns the edge's weight is the neighbour, direction in <see cref="PixelContrast.Forward"/>).</summary>
    private static readonly (int Dx, int Dy, bool OwnedByNeighbour, int Direction)[] Neighbours =
        [(1, 0, false, 0), (-1, 1, false, 1), (0, 1, false, 2), (1, 1, false, 3),
         (-1, 0, true, 0), (1, -1, true, 1), (0, -1, true, 2), (-1, -1, true, 3)];

    private static void Cut(byte[] colour, byte[] cls, int w, int h, List<int> unknown, int[] node, PixelContrast contrast,
        ColourMixture background, ColourMixture foreground)
    {
        var graph = new MaxFlow(unknown.Count, 4 * unknown.Count);
        for (var n = 0; n < unknown.Count; n++)
        {
            var i = unknown[n];
            int x = i % w, y = i / w;
            var costIfBackground = -Math.Log(background.Likelihood(colour, i));
            var costIfForeground = -Math.Log(foreground.Likelihood(colour, i));
            foreach (var (dx, dy, ownedByNeighbour, direction) in Neighbours)
            {
                int nx = x + dx, ny = y + dy;
                if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                var j = ny * w + nx;
                double weight = contrast.Weight(ownedByNeighbour ? j : i, direction);
                if (node[j] >= 0)
                {
                    // Each pair once, from its later pixel.
                    if (j < i) graph.AddPair(n, node[j], weight);
                }
                else if (IsForeground(cls[j])) costIfBackground += weight;
                else costIfForeground += weight;
            }
            // Only the difference of the two data terms changes the cut.
            var difference = costIfBackground - costIfForeground;
            graph.AddTerminal(n, Math.Max(0, difference), Math.Max(0, -difference));
        }
        var isForeground = graph.Solve();
        for (var n = 0; n < unknown.Count; n++)
            cls[unknown[n]] = isForeground[n] ? (byte)GrabCutClasses.PR_FGD : (byte)GrabCutClasses.PR_BGD;
    }

    /// <summary>A five-component full-covariance Gaussian mixture over BGR, as GrabCut's colour models.</summary>
    private sealed class ColourMixture
    {
        public const int Components = 5;
        private readonly double[] _weight = new double[Components];
        private readonly double[] _mean = new double[Components * 3];
        private readonly double[] _inverse = new double[Components * 9];
        private readonly double[] _determinant = new double[Components];
        // Learning sums.
        private readonly double[] _sums = new double[Components * 3];
        private readonly double[] _products = new double[Components * 9];
        private readonly int[] _counts = new int[Components];
        private int _total;

        public void BeginLearning()
        {
            Array.Clear(_sums);
            Array.Clear(_products);
            Array.Clear(_counts);
            _total = 0;
        }

        public void Add(int k, byte[] colour, int pixel)
        {
            double b = colour[3 * pixel], g = colour[3 * pixel + 1], r = colour[3 * pixel + 2];
            _sums[3 * k] += b; _sums[3 * k + 1] += g; _sums[3 * k + 2] += r;
            var p = 9 * k;
            _products[p] += b * b; _products[p + 1] += b * g; _products[p + 2] += b * r;
            _products[p + 4] += g * g; _products[p + 5] += g * r; _products[p + 8] += r * r;
            _counts[k]++;
            _total++;
        }

        public void EndLearning()
        {
            for (var k = 0; k < Components; k++)
            {
                var n = _counts[k];
                _weight[k] = _total == 0 ? 0 : (double)n / _total;
                if (n == 0) continue;
                double mb = _sums[3 * k] / n, mg = _sums[3 * k + 1] / n, mr = _sums[3 * k + 2] / n;
                _mean[3 * k] = mb; _mean[3 * k + 1] = mg; _mean[3 * k + 2] = mr;
                var p = 9 * k;
                double c00 = _products[p] / n - mb * mb, c01 = _products[p + 1] / n - mb * mg, c02 = _products[p + 2] / n - mb * mr;
                double c11 = _products[p + 4] / n - mg * mg, c12 = _products[p + 5] / n - mg * mr, c22 = _products[p + 8] / n - mr * mr;
                var det = Determinant(c00, c01, c02, c11, c12, c22);
                if (det <= double.Epsilon)
                {
                    // A flat component (one colour): a little variance keeps it invertible, as OpenCV does.
                    c00 += 0.01; c11 += 0.01; c22 += 0.01;
                    det = Determinant(c00, c01, c02, c11, c12, c22);
                }
                _determinant[k] = det;
                var q = _inverse.AsSpan(9 * k, 9);
                q[0] = (c11 * c22 - c12 * c12) / det;
                q[1] = q[3] = (c02 * c12 - c01 * c22) / det;
                q[2] = q[6] = (c01 * c12 - c02 * c11) / det;
                q[4] = (c00 * c22 - c02 * c02) / det;
                q[5] = q[7] = (c01 * c02 - c00 * c12) / det;
                q[8] = (c00 * c11 - c01 * c01) / det;
            }
        }

        private static double Determinant(double c00, double c01, double c02, double c11, double c12, double c22) =>
            c00 * (c11 * c22 - c12 * c12) - c01 * (c01 * c22 - c12 * c02) + c02 * (c01 * c12 - c11 * c02);

        private double Mahalanobis(int k, byte[] colour, int pixel)
        {
            double db = colour[3 * pixel] - _mean[3 * k], dg = colour[3 * pixel + 1] - _mean[3 * k + 1], dr = colour[3 * pixel + 2] - _mean[3 * k + 2];
            var q = _inverse.AsSpan(9 * k, 9);
            return db * (q[0] * db + q[1] * dg + q[2] * dr) + dg * (q[3] * db + q[4] * dg + q[5] * dr) + dr * (q[6] * db + q[7] * dg + q[8] * dr);
        }

        /// <summary>Σ weight · N(colour), without the constant (2π)^−3/2, as OpenCV's GrabCut; floored so its log stays finite.</summary>
        public double Likelihood(byte[] colour, int pixel)
        {
            double sum = 0;
            for (var k = 0; k < Components; k++)
                if (_weight[k] > 0) sum += _weight[k] / Math.Sqrt(_determinant[k]) * Math.Exp(-0.5 * Mahalanobis(k, colour, pixel));
            return Math.Max(sum, 1e-300);
        }

        /// <summary>The component with the highest density at the colour (unweighted, as OpenCV).</summary>
        public int LikeliestComponent(byte[] colour, int pixel)
        {
            var best = 0;
            var bestScore = double.MaxValue;
            for (var k = 0; k < Components; k++)
            {
                if (_weight[k] <= 0) continue;
                // −2 log density, up to a constant.
                var score = Math.Log(_determinant[k]) + Mahalanobis(k, colour, pixel);
                if (score < bestScore) { bestScore = score; best = k; }
            }
            return best;
        }
    }
}
