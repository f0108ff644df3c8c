using OpenCvSharp;
using Roto.Vision.Segmentation;

namespace Roto.Vision.Tests.Segmentation;

/// <summary>
/// The pixel-level replay rules, with the cut replaced by fixed masks so that each rule is what decides the outcome:
/// an exclude click takes away only the region it lands in, and an include click adds no farther than its gap to the
/// selection allows.
/// </summary>
public sealed class MaskReplayTests(SegmenterFixture fixture) : IClassFixture<SegmenterFixture>
{
    private const int Width = 480, Height = 270;

    private static readonly Rect Body = new(200, 100, 80, 70);
    private static readonly Rect Tail = new(280, 120, 60, 30);
    private static readonly Rect Leak = new(140, 120, 60, 30);

    [Fact]
    public void An_exclude_click_takes_away_the_region_it_lands_in_and_keeps_parts_the_new_cut_dropped_elsewhere()
    {
        var analysis = Analysis();
        var include = At(Body.X + Body.Width / 2, Body.Y + Body.Height / 2, true);
        var exclude = At(Leak.X + Leak.Width / 2, Leak.Y + Leak.Height / 2, false);
        // The cut after the exclude click keeps the body only: its background model learnt the leak's colours and
        // dropped the tail as well.
        var replay = new MaskReplay((_, clicks) => clicks.Count == 1 ? Mask(Body, Tail, Leak) : Mask(Body), reach: 0.5, gapReach: 3);

        using var mask = replay.Mask(analysis, [include, exclude]);

        Assert.Equal(Body.Width * Body.Height + Tail.Width * Tail.Height, Cv2.CountNonZero(mask));
        Assert.Equal(255, mask.At<byte>(Tail.Y + 10, Tail.X + Tail.Width - 5));
        Assert.Equal(0, mask.At<byte>(Leak.Y + 10, Leak.X + 5));
    }

    [Fact]
    public void An_include_click_beside_the_selection_adds_no_farther_than_a_few_times_its_gap()
    {
        var analysis = Analysis();
        var first = At(Body.X + Body.Width / 2, Body.Y + Body.Height / 2, true);
        const int gap = 10;
        var (x, y) = (Body.X + Body.Width - 1 + gap, Body.Y + Body.Height / 2);
        var second = At(x, y, true);
        // The cut after the second click floods the whole frame, as one on a part coloured like the background can.
        var replay = new MaskReplay((_, clicks) => clicks.Count == 1 ? Mask(Body) : Mask(new Rect(0, 0, Width, Height)), reach: 0.5, gapReach: 3);

        using var mask = replay.Mask(analysis, [first, second]);

        Assert.Equal(255, mask.At<byte>(y, x));
        Assert.Equal(255, mask.At<byte>(y, x + 3 * gap));
        var limit = 3 * gap + 0.02 * Width + 1;
        using var added = new Mat();
        using var body = Mask(Body);
        Cv2.Subtract(mask, body, added);
        using var points = new Mat();
        Cv2.FindNonZero(added, points);
        var farthest = 0.0;
        var count = points.Rows;
        for (var i = 0; i < count; i++)
        {
            var p = points.At<Point>(i);
            farthest = Math.Max(farthest, Math.Sqrt((p.X - x) * (p.X - x) + (p.Y - y) * (p.Y - y)));
        }
        Assert.InRange(farthest, 3 * gap, limit);
    }

    [Fact]
    public void An_exclude_click_near_the_edge_takes_away_no_deeper_than_a_few_times_its_depth()
    {
        var analysis = Analysis();
        var wide = new Rect(100, 60, 280, 150);
        var include = At(wide.X + wide.Width / 2, wide.Y + wide.Height / 2, true);
        const int depth = 6;
        var (x, y) = (wide.X + depth - 1, wide.Y + wide.Height / 2); // depth pixels from the nearest unselected one
        var exclude = At(x, y, false);
        // The cut after the exclude click drops the left half of the selection.
        var replay = new MaskReplay((_, clicks) => clicks.Count == 1 ? Mask(wide) : Mask(new Rect(240, 60, 140, 150)), reach: 0.5, gapReach: 3);

        using var mask = replay.Mask(analysis, [include, exclude]);

        Assert.Equal(0, mask.At<byte>(y, x));
        Assert.Equal(0, mask.At<byte>(y, x + 3 * depth - 1));
        var limit = 3 * depth + 0.02 * Width + 1;
        Assert.Equal(255, mask.At<byte>(y, x + (int)Math.Ceiling(limit) + 1));
        Assert.Equal(255, mask.At<byte>(wide.Y + 2, wide.X + wide.Width / 2 - 10));
        Assert.True(Cv2.CountNonZero(mask) >= wide.Width * wide.Height - Math.PI * limit * limit, $"{wide.Width * wide.Height - Cv2.CountNonZero(mask)} pixels taken away");
    }

    /// <summary>A frame's analysis for the replay's geometry (working size = frame size, never cached).</summary>
    private FrameAnalysis Analysis()
    {
        using var frame = new Mat(Height, Width, MatType.CV_8UC3, new Scalar(90, 120, 150));
        return fixture.Segmenter.Analysis(new SegmentRequest(frame, [], null));
    }

    private static Click At(int x, int y, bool include) => new((x + 0.5) / Width, (y + 0.5) / Height, include);

    private static Mat Mask(params Rect[] rects)
    {
        var mask = new Mat(Height, Width, MatType.CV_8UC1, Scalar.All(0));
        foreach (var r in rects) mask.Rectangle(r, Scalar.All(255), -1);
        return mask;
    }
}
