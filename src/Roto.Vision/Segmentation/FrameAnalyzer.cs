using System.Runtime.InteropServices;
using OpenCvSharp;
using OpenCvSharp.XImgProc;
using Roto.Vision.Features;

namespace Roto.Vision.Segmentation;

/// <summary>Builds a <see cref="FrameAnalysis"/>: working image, SLIC superpixels, ResNet features pooled per superpixel.</summary>
public sealed class FrameAnalyzer(ResNetFeatureExtractor features, FeatureGraphOptions options)
{
    /// <summary>The descriptor starts with the superpixel's mean Lab colour (scaled by <see cref="FeatureGraphOptions.ColourWeight"/>).</summary>
    public const int ColourDimensions = 3;

    public FrameAnalysis Analyze(Mat frame)
    {
        if (frame.Type() != MatType.CV_8UC3) throw new ArgumentException("frame must be CV_8UC3 (BGR)", nameof(frame));
        var scale = Math.Min(1.0, (double)options.WorkingWidth / frame.Width);
        var workSize = new Size(Math.Max(1, (int)Math.Round(frame.Width * scale)), Math.Max(1, (int)Math.Round(frame.Height * scale)));
        int w = workSize.Width, h = workSize.Height;

        using var work = new Mat();
        Cv2.Resize(frame, work, workSize, 0, 0, InterpolationFlags.Area);
        using var lab = new Mat();
        Cv2.CvtColor(work, lab, ColorConversionCodes.BGR2Lab);

        var maps = features.Extract(frame, ResNetFeatureExtractor.InputSizeFor(frame.Size(), options.FeaturePixels));

        int[] labels;
        int count;
        using (var slic = SuperpixelSLIC.Create(lab, SLICType.SLICO, options.SuperpixelSize))
        using (var labelMat = new Mat())
        {
            slic.Iterate(6);
            slic.EnforceLabelConnectivity(25);
            slic.GetLabels(labelMat);
            count = slic.GetNumberOfSuperpixels();
            labels = new int[w * h];
            using var contiguous = labelMat.IsContinuous() ? labelMat : labelMat.Clone();
            Marshal.Copy(contiguous.Data, labels, 0, labels.Length);
        }
        // SLIC may leave ids unused after enforcing connectivity; make them dense.
        count = Densify(labels, count);

        var workBgr = new byte[w * h * 3];
        var labBytes = new byte[w * h * 3];
        using (var contiguous = work.IsContinuous() ? work : work.Clone()) Marshal.Copy(contiguous.Data, workBgr, 0, workBgr.Length);
        using (var contiguous = lab.IsContinuous() ? lab : lab.Clone()) Marshal.Copy(contiguous.Data, labBytes, 0, labBytes.Length);

        var area = new int[count];
        var sumX = new double[count];
        var sumY = new double[count];
        var sumLab = new double[count * 3];
        var onBorder = new bool[count];
        var edgeLength = new Dictionary<long, int>();
        var edgeContrast = new Dictionary<long, double>();
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var s = labels[i];
                area[s]++;
                sumX[s] += x;
                sumY[s] += y;
                sumLab[s * 3] += labBytes[i * 3];
                sumLab[s * 3 + 1] += labBytes[i * 3 + 1];
                sumLab[s * 3 + 2] += labBytes[i * 3 + 2];
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1) onBorder[s] = true;
                if (x + 1 < w && labels[i + 1] != s) Count(edgeLength, edgeContrast, s, labels[i + 1], Contrast(labBytes, i, i + 1));
                if (y + 1 < h && labels[i + w] != s) Count(edgeLength, edgeContrast, s, labels[i + w], Contrast(labBytes, i, i + w));
            }
        }

        var descriptorLength = ColourDimensions + maps.Sum(m => m.Channels);
        var descriptors = new float[count * descriptorLength];
        var centroid = new Point2f[count];
        for (var s = 0; s < count; s++)
        {
            var a = Math.Max(1, area[s]);
            centroid[s] = new Point2f((float)(sumX[s] / a), (float)(sumY[s] / a));
            // 8-bit Lab: L in 0…255, a and b centred on 128; a difference of 64 levels counts about as much as two unrelated feature vectors.
            var d = descriptors.AsSpan(s * descriptorLength, descriptorLength);
            d[0] = (float)(sumLab[s * 3] / a / 64.0) * options.ColourWeight;
            d[1] = (float)((sumLab[s * 3 + 1] / a - 128) / 64.0) * options.ColourWeight;
            d[2] = (float)((sumLab[s * 3 + 2] / a - 128) / 64.0) * options.ColourWeight;
        }

        var offset = ColourDimensions;
        foreach (var map in maps)
        {
            PoolFeatures(map, labels, w, h, count, descriptors, descriptorLength, offset);
            offset += map.Channels;
        }

        var projectedLength = Math.Min(descriptorLength, options.ProbeDimensions);
        var projected = Project(descriptors, count, descriptorLength, projectedLength);

        var edges = edgeLength.Select(kv => new SuperpixelEdge((int)(kv.Key >> 32), (int)(kv.Key & 0xffffffff), kv.Value, (float)(edgeContrast[kv.Key] / kv.Value))).ToList();
        var neighbours = new List<int>[count];
        for (var s = 0; s < count; s++) neighbours[s] = [];
        foreach (var e in edges) { neighbours[e.A].Add(e.B); neighbours[e.B].Add(e.A); }

        return new FrameAnalysis
        {
            FrameSize = frame.Size(),
            WorkSize = workSize,
            WorkBgr = workBgr,
            Labels = labels,
            Count = count,
            Descriptors = descriptors,
            Projected = projected,
            ProjectedLength = projectedLength,
            DescriptorLength = descriptorLength,
            Area = area,
            Centroid = centroid,
            OnBorder = onBorder,
            Edges = edges,
            Neighbours = [.. neighbours.Select(n => n.ToArray())],
        };
    }

    /// <summary>
    /// A fixed Gaussian random projection (Johnson–Lindenstrauss): distances and linear separations survive it well,
    /// and the linear probe's Gram matrix shrinks with the square of the dimensions.
    /// </summary>
    private static float[] Project(float[] descriptors, int count, int length, int dimensions)
    {
        var matrix = Projections.GetOrAdd((length, dimensions), key => ProjectionMatrix(key.Length, key.Dimensions));
        // Row by row as sums of scaled matrix rows (SIMD): OpenCV's gemm here is not BLAS-backed and takes several
        // times longer for this shape.
        var result = new float[count * dimensions];
        for (var s = 0; s < count; s++)
        {
            var row = descriptors.AsSpan(s * length, length);
            var target = result.AsSpan(s * dimensions, dimensions);
            for (var k = 0; k < length; k++)
            {
                var v = row[k];
                if (v != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(matrix.AsSpan(k * dimensions, dimensions), v, target, target);
            }
        }
        return result;
    }

    /// <summary>The projection depends only on the shapes; drawing it costs more than applying it, so it is drawn once.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int Length, int Dimensions), float[]> Projections = new();

    private static float[] ProjectionMatrix(int length, int dimensions)
    {
        var random = new Random(20240601);
        var matrix = new float[length * dimensions];
        for (var i = 0; i < matrix.Length; i++)
        {
            // Box–Muller: a standard normal from two uniforms.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            matrix[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) / Math.Sqrt(dimensions));
        }
        return matrix;
    }

    private static void Count(Dictionary<long, int> edgeLength, Dictionary<long, double> edgeContrast, int a, int b, double contrast)
    {
        var key = a < b ? ((long)a << 32) | (uint)b : ((long)b << 32) | (uint)a;
        edgeLength[key] = edgeLength.GetValueOrDefault(key) + 1;
        edgeContrast[key] = edgeContrast.GetValueOrDefault(key) + contrast;
    }

    /// <summary>Squared Lab difference of two pixels.</summary>
    private static double Contrast(byte[] lab, int p, int q)
    {
        double dl = lab[p * 3] - lab[q * 3], da = lab[p * 3 + 1] - lab[q * 3 + 1], db = lab[p * 3 + 2] - lab[q * 3 + 2];
        return dl * dl + da * da + db * db;
    }

    private static int Densify(int[] labels, int count)
    {
        var map = new int[Math.Max(count, labels.Max() + 1)];
        Array.Fill(map, -1);
        var next = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var l = labels[i];
            if (map[l] < 0) map[l] = next++;
            labels[i] = map[l];
        }
        return next;
    }

    /// <summary>
    /// The mean feature vector of each superpixel's pixels, each pixel reading the map bilinearly (so coarse cells do
    /// not print their blocks on the mask), scaled to unit length so that every stage weighs the same.
    /// </summary>
    private static void PoolFeatures(DenseFeatureMap map, int[] labels, int w, int h, int count, float[] descriptors, int length, int offset)
    {
        // Weight of each (cell, superpixel) pair: the sum of the bilinear weights of the superpixel's pixels. A dense
        // table (cells × superpixels, a few MB) is far cheaper to fill than a hash map of the pairs.
        var cells = map.Height * map.Width;
        var weights = System.Buffers.ArrayPool<float>.Shared.Rent(cells * count);
        try
        {
            Array.Clear(weights, 0, cells * count);
            var x0 = new int[w]; var fx = new float[w];
            for (var x = 0; x < w; x++) Bilinear(x, w, map.Width, out x0[x], out fx[x]);
            for (var y = 0; y < h; y++)
            {
                Bilinear(y, h, map.Height, out var y0, out var fy);
                var y1 = Math.Min(map.Height - 1, y0 + 1);
                for (var x = 0; x < w; x++)
                {
                    var s = labels[y * w + x];
                    var x1 = Math.Min(map.Width - 1, x0[x] + 1);
                    weights[(y0 * map.Width + x0[x]) * count + s] += (1 - fx[x]) * (1 - fy);
                    weights[(y0 * map.Width + x1) * count + s] += fx[x] * (1 - fy);
                    weights[(y1 * map.Width + x0[x]) * count + s] += (1 - fx[x]) * fy;
                    weights[(y1 * map.Width + x1) * count + s] += fx[x] * fy;
                }
            }
            var feature = new float[map.Channels];
            for (var cell = 0; cell < cells; cell++)
            {
                var filled = false;
                for (var s = 0; s < count; s++)
                {
                    var weight = weights[cell * count + s];
                    if (weight <= 0) continue;
                    if (!filled)
                    {
                        map.CopyCell(cell / map.Width, cell % map.Width, feature);
                        filled = true;
                    }
                    var d = descriptors.AsSpan(s * length + offset, map.Channels);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(feature, weight, d, d);
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(weights);
        }
        for (var s = 0; s < count; s++)
        {
            var d = descriptors.AsSpan(s * length + offset, map.Channels);
            var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(d));
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(d, norm, d);
        }
    }

    /// <summary>The map cell left of/above a working pixel's centre and the fraction towards the next cell.</summary>
    private static void Bilinear(int pixel, int pixels, int cells, out int cell, out float fraction)
    {
        var position = Math.Clamp((pixel + 0.5) * cells / pixels - 0.5, 0, cells - 1);
        cell = Math.Min(cells - 1, (int)position);
        fraction = (float)(position - cell);
    }
}
