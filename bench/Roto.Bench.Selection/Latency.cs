using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;
using Roto.Vision;

namespace Roto.Bench.Selection;

/// <summary>Segmenter latency at 1280×720: the first click on a frame (analysis included) and later clicks on it.</summary>
public static class Latency
{
    public static void Measure(IClickSegmenter segmenter, string root, IReadOnlyList<string> sequences, int rounds = 2)
    {
        var first = new List<double>();
        var later = new List<double>();
        using (var warm = new Mat(720, 1280, MatType.CV_8UC3, Scalar.All(90)))
        using (segmenter.Segment(new SegmentRequest(warm, [new Click(0.5, 0.5)], "warm-up"))) { }

        for (var round = 0; round < rounds; round++)
        {
            foreach (var seq in sequences)
            {
                using var source = Cv2.ImRead(Path.Combine(root, seq, "frames", "00000.jpg"));
                using var gtSource = Cv2.ImRead(Path.Combine(root, seq, "masks", "00000.png"), ImreadModes.Grayscale);
                using var frame = new Mat();
                using var gt = new Mat();
                Cv2.Resize(source, frame, new Size(1280, 720), 0, 0, InterpolationFlags.Linear);
                Cv2.Resize(gtSource, gt, new Size(1280, 720), 0, 0, InterpolationFlags.Nearest);
                var user = new SimulatedUser(gt, negatives: true);
                var clicks = new List<Click>();
                Mat? prediction = null;
                var key = $"latency/{round}/{seq}";
                for (var k = 0; k < 5; k++)
                {
                    var next = user.NextClick(prediction);
                    if (next == null) break;
                    clicks.Add(new Click((next.Value.Point.X + 0.5) / frame.Width, (next.Value.Point.Y + 0.5) / frame.Height, next.Value.Include));
                    prediction?.Dispose();
                    var watch = Stopwatch.StartNew();
                    prediction = segmenter.Segment(new SegmentRequest(frame, clicks, key));
                    (k == 0 ? first : later).Add(watch.Elapsed.TotalMilliseconds);
                }
                prediction?.Dispose();
            }
        }
        Console.WriteLine();
        Console.WriteLine("| segmenter latency at 1280×720 | n | p50 ms | p95 ms |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(Row("first click on a frame", first));
        Console.WriteLine(Row("later clicks on the frame", later));
    }

    private static string Row(string name, List<double> samples) =>
        string.Create(CultureInfo.InvariantCulture, $"| {name} | {samples.Count} | {Percentile(samples, 0.5):0} | {Percentile(samples, 0.95):0} |");

    public static double Percentile(List<double> samples, double p)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.Order().ToList();
        var rank = p * (sorted.Count - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
