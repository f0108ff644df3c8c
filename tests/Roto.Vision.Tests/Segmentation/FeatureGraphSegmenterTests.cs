using System.Diagnostics;
using OpenCvSharp;
using Roto.Vision.Segmentation;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Segmentation;

public sealed class FeatureGraphSegmenterTests(SegmenterFixture fixture) : IClassFixture<SegmenterFixture>
{
    private readonly FeatureGraphSegmenter _segmenter = fixture.Segmenter;

    [Theory]
    [InlineData("camel")]
    [InlineData("car-shadow")]
    [InlineData("blackswan")]
    public void One_click_inside_an_element_covers_much_of_it(string sequence)
    {
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        var click = Interior(truth);

        using var mask = _segmenter.Segment(new SegmentRequest(frame, [click], $"test/{sequence}"));

        var iou = Iou(mask, truth);
        Assert.True(iou >= 0.45, $"IoU with the ground truth after one click is {iou:0.00}");
        Assert.Equal(255, At(mask, click));
    }

    [Fact]
    public void The_mask_has_the_frame_size_and_only_0_and_255()
    {
        using var frame = Frame("dog");
        using var mask = _segmenter.Segment(new SegmentRequest(frame, [Interior(Truth("dog"))], "test/dog"));

        Assert.Equal(MatType.CV_8UC1, mask.Type());
        Assert.Equal(frame.Size(), mask.Size());
        using var other = new Mat();
        Cv2.InRange(mask, Scalar.All(1), Scalar.All(254), other);
        Assert.Equal(0, Cv2.CountNonZero(other));
        Assert.InRange(Cv2.CountNonZero(mask), 1000, frame.Width * frame.Height / 2);
    }

    [Fact]
    public void Without_include_clicks_the_mask_is_empty()
    {
        using var frame = Frame("dog");
        using var none = _segmenter.Segment(new SegmentRequest(frame, [], "test/dog"));
        using var onlyExclude = _segmenter.Segment(new SegmentRequest(frame, [new Click(0.4, 0.3, Include: false)], "test/dog"));

        Assert.Equal(frame.Size(), none.Size());
        Assert.Equal(0, Cv2.CountNonZero(none));
        Assert.Equal(0, Cv2.CountNonZero(onlyExclude));
    }

    [Fact]
    public void An_exclude_click_on_a_false_region_removes_it()
    {
        const string sequence = "breakdance";
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        var include = Interior(truth);
        using var before = _segmenter.Segment(new SegmentRequest(frame, [include], $"test/{sequence}"));
        using var falseBefore = FalseArea(before, truth);
        var falsePixelsBefore = Cv2.CountNonZero(falseBefore);
        Assert.True(falsePixelsBefore > 2000, $"the first mask should spill over here ({falsePixelsBefore} false pixels)");
        var exclude = Interior(falseBefore, include: false);

        using var after = _segmenter.Segment(new SegmentRequest(frame, [include, exclude], $"test/{sequence}"));

        Assert.Equal(0, At(after, exclude));
        Assert.Equal(255, At(after, include));
        // The false region under the exclude click is mostly gone.
        using var clickedRegion = ComponentAt(falseBefore, exclude);
        var regionPixels = Cv2.CountNonZero(clickedRegion);
        using var kept = new Mat();
        Cv2.BitwiseAnd(after, clickedRegion, kept);
        var keptPixels = Cv2.CountNonZero(kept);
        Assert.True(keptPixels < regionPixels * 0.5, $"{keptPixels} of the {regionPixels} pixels of the excluded region remain");
    }

    private static Mat ComponentAt(Mat mask, Click click)
    {
        using var labels = new Mat();
        Cv2.ConnectedComponents(mask, labels, PixelConnectivity.Connectivity8);
        var id = labels.At<int>(Math.Clamp((int)(click.Y * mask.Rows), 0, mask.Rows - 1), Math.Clamp((int)(click.X * mask.Cols), 0, mask.Cols - 1));
        var component = new Mat();
        Cv2.Compare(labels, Scalar.All(id), component, CmpTypes.EQ);
        return component;
    }

    [Fact]
    public void One_click_gives_one_region_and_clicks_on_two_separate_elements_give_two()
    {
        using var frame = TwoBalls();
        var left = new Click(0.25, 0.5);
        var right = new Click(0.75, 0.5);

        using var one = _segmenter.Segment(new SegmentRequest(frame, [left], "test/balls"));
        using var two = _segmenter.Segment(new SegmentRequest(frame, [left, right], "test/balls"));

        Assert.Equal(1, Regions(one));
        Assert.Equal(0, At(one, right));
        Assert.Equal(2, Regions(two));
        Assert.Equal(255, At(two, left));
        Assert.Equal(255, At(two, right));
        // Each region is about a ball (radius 70 px: 15 400 px²), not the background.
        Assert.InRange(Cv2.CountNonZero(two), 2 * 10_000, 2 * 22_000);
    }

    [Fact]
    public void A_second_click_on_a_frame_reuses_its_cached_analysis_and_caching_does_not_change_the_mask()
    {
        var segmenter = new FeatureGraphSegmenter();
        try
        {
            using var frame = Frame("camel");
            using var truth = Truth("camel");
            var click = Interior(truth);
            using (segmenter.Segment(new SegmentRequest(frame, [click], "warm-up"))) { }

            // Speed is measured in bench/Roto.Bench.Selection; here the reuse itself is checked.
            var before = segmenter.CachedFrameCount;
            using var uncachedFirst = segmenter.Segment(new SegmentRequest(frame, [click], "test/camel"));
            Assert.Equal(before + 1, segmenter.CachedFrameCount);
            using var cachedSecond = segmenter.Segment(new SegmentRequest(frame, [click], "test/camel"));
            Assert.Equal(before + 1, segmenter.CachedFrameCount);
            using var noCache = segmenter.Segment(new SegmentRequest(frame, [click], null));
            Assert.Equal(before + 1, segmenter.CachedFrameCount);
            using var diff = new Mat();
            Cv2.Compare(uncachedFirst, cachedSecond, diff, CmpTypes.NE);
            Assert.Equal(0, Cv2.CountNonZero(diff));
            Cv2.Compare(uncachedFirst, noCache, diff, CmpTypes.NE);
            Assert.Equal(0, Cv2.CountNonZero(diff));
        }
        finally
        {
            segmenter.Dispose();
        }
    }

    private static Mat FalseArea(Mat mask, Mat truth)
    {
        using var notTruth = new Mat();
        Cv2.BitwiseNot(truth, notTruth);
        var result = new Mat();
        Cv2.BitwiseAnd(mask, notTruth, result);
        return result;
    }

    private static int Regions(Mat mask)
    {
        using var labels = new Mat();
        return Cv2.ConnectedComponents(mask, labels, PixelConnectivity.Connectivity8) - 1;
    }

    /// <summary>Two orange balls, apart, on a grey-green textured ground.</summary>
    private static Mat TwoBalls()
    {
        var frame = new Mat(360, 640, MatType.CV_8UC3, new Scalar(90, 120, 100));
        var random = new Random(7);
        var texture = new byte[frame.Rows * frame.Cols * 3];
        random.NextBytes(texture);
        for (var i = 0; i < texture.Length; i++) texture[i] = (byte)(texture[i] % 40);
        using var noise = new Mat(frame.Rows, frame.Cols, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(texture, 0, noise.Data, texture.Length);
        Cv2.Add(frame, noise, frame);
        Cv2.Circle(frame, new Point(160, 180), 70, new Scalar(30, 120, 240), -1, LineTypes.AntiAlias);
        Cv2.Circle(frame, new Point(480, 180), 70, new Scalar(30, 120, 240), -1, LineTypes.AntiAlias);
        return frame;
    }
}
