using Roto.Vision.Segmentation;

namespace Roto.Vision.Tests.Segmentation;

public sealed class MaxFlowTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void The_cut_costs_no_more_than_any_other_labelling(int seed)
    {
        // Small random graphs, every labelling enumerated: the solver's labelling must reach the minimum energy.
        var random = new Random(seed);
        for (var graph = 0; graph < 40; graph++)
        {
            var n = random.Next(2, 12);
            var unary = new (double Background, double Foreground)[n];
            var pairs = new List<(int A, int B, double Cost)>();
            for (var i = 0; i < n; i++) unary[i] = (random.NextDouble() * 4, random.NextDouble() * 4);
            for (var i = 0; i < n; i++)
                for (var j = i + 1; j < n; j++)
                    if (random.NextDouble() < 0.4) pairs.Add((i, j, random.NextDouble() * 3));

            var flow = new MaxFlow(n);
            for (var i = 0; i < n; i++) flow.AddTerminal(i, unary[i].Background, unary[i].Foreground);
            foreach (var (a, b, cost) in pairs) flow.AddPair(a, b, cost);
            var labels = flow.Solve();

            var best = double.MaxValue;
            for (var bits = 0; bits < 1 << n; bits++) best = Math.Min(best, Energy(i => (bits >> i & 1) == 1, unary, pairs));
            var found = Energy(i => labels[i], unary, pairs);
            Assert.True(found <= best + 1e-9, $"graph {graph} of seed {seed}: cut energy {found} vs minimum {best}");
        }
    }

    [Fact]
    public void A_weak_contour_in_a_grid_separates_two_strongly_held_halves()
    {
        // A 30×20 grid: the left column wants foreground, the right column background, every pixel is tied to its
        // neighbours, and the ties across column 12 are weak: the cut runs there.
        const int w = 30, h = 20;
        var flow = new MaxFlow(w * h);
        for (var y = 0; y < h; y++)
        {
            flow.AddTerminal(y * w, 100, 0);
            flow.AddTerminal(y * w + w - 1, 0, 100);
            for (var x = 0; x < w; x++)
            {
                if (x > 0) flow.AddPair(y * w + x, y * w + x - 1, x == 13 ? 0.1 : 5);
                if (y > 0) flow.AddPair(y * w + x, (y - 1) * w + x, 5);
            }
        }
        var labels = flow.Solve();
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                Assert.Equal(x <= 12, labels[y * w + x]);
    }

    private static double Energy(Func<int, bool> foreground, (double Background, double Foreground)[] unary, List<(int A, int B, double Cost)> pairs)
    {
        double e = 0;
        for (var i = 0; i < unary.Length; i++) e += foreground(i) ? unary[i].Foreground : unary[i].Background;
        foreach (var (a, b, cost) in pairs) if (foreground(a) != foreground(b)) e += cost;
        return e;
    }
}
