using System.Globalization;
using Roto.Baselines;
using OpenCvSharp;
using Roto.TestSupport;

namespace Roto.Vision.Tests.Evaluation;

/// <summary>The J and F measures reproduce what the official DAVIS code computed for the OSVOS predictions.</summary>
public class DavisMetricsGoldenTests
{
    private const double Tolerance = 1e-6;
    private static string MetricCheck => Path.Combine(TestData.Dir, "davis16-dev", "metric-check");

    [Fact]
    public void PerFrameAndPerSequenceValuesMatchTheGoldenTables()
    {
        var golden = File.ReadAllLines(Path.Combine(MetricCheck, "golden_per_frame.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Select(f => (Sequence: f[0], Frame: f[1], J: Parse(f[2]), F: Parse(f[3])))
            .ToList();
        Assert.True(golden.Count > 600, "the golden table should cover every scored frame of the ten sequences");

        var perSequence = new Dictionary<string, (List<double> J, List<double> F)>();
        foreach (var row in golden)
        {
            using var prediction = Cv2.ImRead(Path.Combine(MetricCheck, "osvos", row.Sequence, row.Frame + ".png"), ImreadModes.Unchanged);
            using var truth = Cv2.ImRead(Path.Combine(TestData.Davis(row.Sequence), "masks", row.Frame + ".png"), ImreadModes.Unchanged);
            var j = DavisMetrics.Jaccard(prediction, truth);
            var f = DavisMetrics.BoundaryF(prediction, truth);
            Assert.True(Math.Abs(j - row.J) <= Tolerance, $"{row.Sequence}/{row.Frame}: J {j:F7} vs golden {row.J:F6}");
            Assert.True(Math.Abs(f - row.F) <= Tolerance, $"{row.Sequence}/{row.Frame}: F {f:F7} vs golden {row.F:F6}");
            if (!perSequence.TryGetValue(row.Sequence, out var lists)) perSequence[row.Sequence] = lists = ([], []);
            lists.J.Add(j);
            lists.F.Add(f);
        }

        var sequences = File.ReadAllLines(Path.Combine(MetricCheck, "golden_per_sequence.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(perSequence.Count, sequences.Count);
        foreach (var s in sequences)
        {
            var (jValues, fValues) = perSequence[s[0]];
            Assert.Equal(int.Parse(s[1], CultureInfo.InvariantCulture), jValues.Count);
            var j = MeasureStatistics.Of(jValues);
            var f = MeasureStatistics.Of(fValues);
            AssertClose(s[0], "J_mean", Parse(s[2]), j.Mean);
            AssertClose(s[0], "J_recall", Parse(s[3]), j.Recall);
            AssertClose(s[0], "J_decay", Parse(s[4]), j.Decay);
            AssertClose(s[0], "F_mean", Parse(s[5]), f.Mean);
            AssertClose(s[0], "F_recall", Parse(s[6]), f.Recall);
            AssertClose(s[0], "F_decay", Parse(s[7]), f.Decay);
            AssertClose(s[0], "JF_mean", Parse(s[8]), (j.Mean + f.Mean) / 2);
        }
    }

    [Fact]
    public void IdenticalMasksScoreOneAndDisjointMasksScoreZero()
    {
        using var a = new Mat(100, 160, MatType.CV_8UC1, Scalar.All(0));
        using var b = new Mat(100, 160, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(a, new Rect(10, 10, 30, 30), Scalar.All(255), -1);
        Cv2.Rectangle(b, new Rect(100, 50, 30, 30), Scalar.All(255), -1);
        Assert.Equal(1.0, DavisMetrics.Jaccard(a, a), 12);
        Assert.Equal(1.0, DavisMetrics.BoundaryF(a, a), 12);
        Assert.Equal(0.0, DavisMetrics.Jaccard(a, b), 12);
        Assert.Equal(0.0, DavisMetrics.BoundaryF(a, b), 12);
    }

    private static void AssertClose(string sequence, string measure, double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance, $"{sequence} {measure}: {actual:F7} vs golden {expected:F6}");

    private static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);
}
