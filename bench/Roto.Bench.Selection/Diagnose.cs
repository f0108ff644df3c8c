using System.Numerics.Tensors;
using OpenCvSharp;
using Roto.Vision;
using Roto.Vision.Segmentation;

namespace Roto.Bench.Selection;

/// <summary>Development aid: how well the first click's appearance model separates the element before any graph cut.</summary>
public static class Diagnose
{
    public static void Run(FeatureGraphSegmenter segmenter, string root, IReadOnlyList<string> sequences)
    {
        foreach (var seq in sequences)
        {
            using var frame = Cv2.ImRead(Path.Combine(root, seq, "frames", "00000.jpg"));
            using var gtFull = Cv2.ImRead(Path.Combine(root, seq, "masks", "00000.png"), ImreadModes.Grayscale);
            var (p, _) = SimulatedUser.Interior(gtFull);
            var click = new Click((p.X + 0.5) / frame.Width, (p.Y + 0.5) / frame.Height);
            var a = segmenter.Analysis(new SegmentRequest(frame, [click], null));
            using var gt = new Mat();
            Cv2.Resize(gtFull, gt, a.WorkSize, 0, 0, InterpolationFlags.Area);
            var inside = new double[a.Count];
            for (var y = 0; y < a.WorkSize.Height; y++)
                for (var x = 0; x < a.WorkSize.Width; x++)
                    inside[a.Labels[y * a.WorkSize.Width + x]] += gt.At<byte>(y, x) / 255.0;
            for (var s = 0; s < a.Count; s++) inside[s] /= a.Area[s];
            var seed = a.SuperpixelAt(click);
            var bg = new DescriptorClusters(a.Descriptors, a.DescriptorLength);
            bg.AddKMeans([.. Enumerable.Range(0, a.Count).Where(s => a.OnBorder[s])], 10);
            var dF = Enumerable.Range(0, a.Count).Select(s => TensorPrimitives.Distance(a.Descriptor(s), a.Descriptor(seed))).ToArray();
            var dB = Enumerable.Range(0, a.Count).Select(s => bg.Distance(a.Descriptor(s))).ToArray();
            var pF = Enumerable.Range(0, a.Count).Select(s => dF[s] / (dF[s] + dB[s])).ToArray();
            double Mean(IEnumerable<double> v) => v.DefaultIfEmpty(double.NaN).Average();
            var inS = Enumerable.Range(0, a.Count).Where(s => inside[s] > 0.5).ToList();
            var outS = Enumerable.Range(0, a.Count).Where(s => inside[s] <= 0.5).ToList();
            string Best(Func<int, double> score)
            {
                double best = 0, bestT = 0;
                var values = Enumerable.Range(0, a.Count).Select(score).Order().ToArray();
                foreach (var t in Enumerable.Range(1, 49).Select(i => values[i * values.Length / 50]))
                {
                    double inter = 0, uni = 0;
                    for (var s = 0; s < a.Count; s++)
                    {
                        var sel = score(s) < t;
                        var g = inside[s] * a.Area[s];
                        if (sel) { inter += g; uni += a.Area[s]; } else uni += g;
                    }
                    if (inter / uni > best) { best = inter / uni; bestT = t; }
                }
                return $"{best:0.00}";
            }
            var best = Best(s => dF[s]) + " dB " + Best(s => -dB[s]) + " pF " + Best(s => pF[s]);
            const double bestT = 0;
            Console.WriteLine($"{seq,-16} n={a.Count} obj={inS.Count} dF in {Mean(inS.Select(s => (double)dF[s])):0.00} out {Mean(outS.Select(s => (double)dF[s])):0.00} | dB in {Mean(inS.Select(s => (double)dB[s])):0.00} out {Mean(outS.Select(s => (double)dB[s])):0.00} | pF in {Mean(inS.Select(s => (double)pF[s])):0.00} out {Mean(outS.Select(s => (double)pF[s])):0.00} | best dF-threshold IoU {best} at {bestT:0.00}");
        }
    }
}

public static class Timing
{
    public static void Run(string root)
    {
        using var src = Cv2.ImRead(Path.Combine(root, "dog", "frames", "00000.jpg"));
        using var frame = new Mat();
        Cv2.Resize(src, frame, new Size(1280, 720));
        foreach (var strides in new[] { new[] { 16 }, [32], [8, 16], [16, 32] })
        {
            using var fx = new Roto.Vision.Features.ResNetFeatureExtractor(strides);
            foreach (var px in new[] { 512 * 288, 640 * 352, 768 * 416 })
            {
                var size = Roto.Vision.Features.ResNetFeatureExtractor.InputSizeFor(frame.Size(), px);
                fx.Extract(frame, size);
                var sw = System.Diagnostics.Stopwatch.StartNew();
                for (var i = 0; i < 3; i++) fx.Extract(frame, size);
                Console.WriteLine($"resnet strides {string.Join(',', strides)} input {size}: {sw.ElapsedMilliseconds / 3} ms");
            }
        }
        using var work = new Mat();
        Cv2.Resize(frame, work, new Size(480, 270), 0, 0, InterpolationFlags.Area);
        using var lab = new Mat();
        Cv2.CvtColor(work, lab, ColorConversionCodes.BGR2Lab);
        foreach (var it in new[] { 3, 6, 10 })
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var slic = OpenCvSharp.XImgProc.SuperpixelSLIC.Create(lab, OpenCvSharp.XImgProc.SLICType.SLICO, 10);
            slic.Iterate(it);
            slic.EnforceLabelConnectivity(25);
            Console.WriteLine($"slic {it} iterations: {sw.ElapsedMilliseconds} ms");
        }
    }
}
