using OpenCvSharp;
using Roto.Vision.Learned;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Learned;

public sealed class SamClickSegmenterTests(LearnedModelsFixture fixture) : IClassFixture<LearnedModelsFixture>
{
    private readonly SamClickSegmenter _segmenter = new(fixture.Models);

    [Theory]
    [InlineData("blackswan")]
    [InlineData("camel")]
    public void One_click_on_a_real_frame_selects_the_element(string sequence)
    {
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        var click = Interior(truth);

        using var mask = _segmenter.Segment(new SegmentRequest(frame, [click], $"test/{sequence}"));

        var iou = Iou(mask, truth);
        Assert.True(iou >= 0.7, $"IoU with the ground truth after one click is {iou:0.000}");
        Assert.Equal(frame.Size(), mask.Size());
        Assert.Equal(255, At(mask, click));
    }

    [Fact]
    public void The_outline_is_moved_onto_the_frames_edges()
    {
        var plain = new SamClickSegmenter(fixture.Models, new SamSegmenterOptions { EdgeRadius = 0 });
        string[] sequences = ["blackswan", "camel", "dog", "car-shadow", "horsejump-high"];
        double plainOnEdge = 0, snappedOnEdge = 0, plainIou = 0, snappedIou = 0;
        foreach (var sequence in sequences)
        {
            using var frame = Frame(sequence);
            using var truth = Truth(sequence);
            var click = Interior(truth);
            using var before = plain.Segment(new SegmentRequest(frame, [click], $"edges/{sequence}"));
            using var after = _segmenter.Segment(new SegmentRequest(frame, [click], $"edges/{sequence}"));
            plainOnEdge += OutlineOnTruth(before, truth) / sequences.Length;
            snappedOnEdge += OutlineOnTruth(after, truth) / sequences.Length;
            plainIou += Iou(before, truth) / sequences.Length;
            snappedIou += Iou(after, truth) / sequences.Length;
            Assert.Equal(255, At(after, click));
        }
        Assert.True(snappedOnEdge > plainOnEdge + 0.015 && snappedIou >= plainIou,
            $"outline within 2 px of the truth's: {plainOnEdge:0.000} as decoded, {snappedOnEdge:0.000} snapped; IoU {plainIou:0.000} → {snappedIou:0.000}");
    }

    [Fact]
    public void Snapping_never_takes_away_the_part_a_click_landed_on()
    {
        // A flat frame with a square element; the mask holds the square and a 2-px strip with no edge under it, which
        // the filter smooths away unless a click lies on it.
        using var frame = new Mat(120, 160, MatType.CV_8UC3, new Scalar(90, 90, 90));
        Cv2.Rectangle(frame, new Rect(40, 30, 50, 50), new Scalar(200, 60, 30), -1);
        using var decoded = new Mat(120, 160, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(decoded, new Rect(40, 30, 50, 50), Scalar.All(255), -1);
        Cv2.Rectangle(decoded, new Rect(90, 54, 40, 2), Scalar.All(255), -1);
        var onSquare = new Click(65 / 160.0, 55 / 120.0);
        var onStrip = new Click(120.5 / 160.0, 54.5 / 120.0);

        using var snapped = decoded.Clone();
        SamClickSegmenter.SnapToEdges(frame, snapped, [onSquare], 4, 100);
        using var kept = decoded.Clone();
        SamClickSegmenter.SnapToEdges(frame, kept, [onSquare, onStrip], 4, 100);

        Assert.Equal(0, At(snapped, onStrip));
        Assert.Equal(255, At(snapped, onSquare));
        Assert.Equal(255, At(kept, onStrip));
        Assert.Equal(Cv2.CountNonZero(decoded), Cv2.CountNonZero(kept));
    }

    /// <summary>The share of the mask's outline pixels that lie within 2 px of the truth's outline.</summary>
    private static double OutlineOnTruth(Mat mask, Mat truth)
    {
        using var outline = Outline(mask);
        using var truthOutline = Outline(truth);
        using var near = new Mat();
        using var disc = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(5, 5));
        Cv2.Dilate(truthOutline, near, disc);
        using var on = new Mat();
        Cv2.BitwiseAnd(outline, near, on);
        return Cv2.CountNonZero(on) / (double)Math.Max(1, Cv2.CountNonZero(outline));

        static Mat Outline(Mat m)
        {
            var eroded = new Mat();
            Cv2.Erode(m, eroded, null);
            Cv2.Subtract(m, eroded, eroded);
            return eroded;
        }
    }

    [Fact]
    public void A_frame_is_encoded_once_and_later_clicks_reuse_it()
    {
        var segmenter = new SamClickSegmenter(fixture.Models);
        using var frame = Frame("dog");
        using var truth = Truth("dog");
        var click = Interior(truth);

        segmenter.Prepare(frame, "session/0");
        using var first = segmenter.Segment(new SegmentRequest(frame, [click], "session/0"));
        using var second = segmenter.Segment(new SegmentRequest(frame, [click, new Click(0.1, 0.1, Include: false)], "session/0"));

        Assert.Equal(1, segmenter.CachedFrameCount);
        Assert.True(Iou(first, truth) >= 0.6, $"IoU {Iou(first, truth):0.000}");
    }

    [Fact]
    public void An_exclude_point_takes_its_part_away_and_leaves_the_rest()
    {
        using var frame = Frame("blackswan");
        using var truth = Truth("blackswan");
        var include = Interior(truth);
        using var before = _segmenter.Segment(new SegmentRequest(frame, [include], "test/exclude"));
        // A point inside the selection, away from the include point: the swan's head and neck lie left of its body.
        using var inside = before.Clone();
        Cv2.Circle(inside, new Point(include.X * frame.Width, include.Y * frame.Height), frame.Width / 8, Scalar.All(0), -1);
        var exclude = Interior(inside, include: false);

        using var after = _segmenter.Segment(new SegmentRequest(frame, [include, exclude], "test/exclude"));

        Assert.Equal(0, At(after, exclude));
        Assert.Equal(255, At(after, include));
        var kept = Cv2.CountNonZero(after) / (double)Cv2.CountNonZero(before);
        Assert.InRange(kept, 0.2, 0.98);
        using var added = new Mat();
        using var notBefore = new Mat();
        Cv2.BitwiseNot(before, notBefore);
        Cv2.BitwiseAnd(after, notBefore, added);
        Assert.True(Cv2.CountNonZero(added) < 0.02 * Cv2.CountNonZero(before), "an exclude point added pixels");
    }

    [Fact]
    public void Without_include_points_the_mask_is_empty()
    {
        using var frame = Frame("dog");
        using var mask = _segmenter.Segment(new SegmentRequest(frame, [new Click(0.4, 0.3, Include: false)], "test/none"));
        Assert.Equal(0, Cv2.CountNonZero(mask));
    }

    [Fact]
    public void A_correction_click_on_a_missed_part_adds_it_without_losing_the_rest()
    {
        using var frame = Frame("breakdance");
        using var truth = Truth("breakdance");
        var first = Interior(truth);
        using var one = _segmenter.Segment(new SegmentRequest(frame, [first], "test/correction"));
        using var missed = new Mat();
        using var notOne = new Mat();
        Cv2.BitwiseNot(one, notOne);
        Cv2.BitwiseAnd(truth, notOne, missed);
        var second = Interior(missed);

        using var two = _segmenter.Segment(new SegmentRequest(frame, [first, second], "test/correction"));

        Assert.Equal(255, At(two, second));
        Assert.True(Iou(two, truth) > Iou(one, truth), $"IoU {Iou(one, truth):0.000} -> {Iou(two, truth):0.000}");
    }

    [Theory]
    [InlineData("blackswan")]
    [InlineData("camel")]
    public void A_click_on_a_frame_with_a_tracked_mask_mends_it_instead_of_starting_over(string sequence)
    {
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        // The track lost the element's right part: the prior is the truth with its right 40 % cut away.
        var box = Cv2.BoundingRect(truth);
        using var prior = truth.Clone();
        var cut = box.X + (int)(box.Width * 0.6);
        prior[new Rect(cut, 0, frame.Width - cut, frame.Height)].SetTo(Scalar.All(0));
        using var missed = new Mat();
        Cv2.Subtract(truth, prior, missed);
        var click = Interior(missed);

        using var mended = _segmenter.Segment(new SegmentRequest(frame, [click], $"test/prior/{sequence}", prior));
        using var alone = _segmenter.Segment(new SegmentRequest(frame, [click], $"test/prior/{sequence}"));

        using var kept = new Mat();
        Cv2.BitwiseAnd(mended, prior, kept);
        Assert.True(Cv2.CountNonZero(kept) >= 0.95 * Cv2.CountNonZero(prior), "the correction dropped what the track had right");
        Assert.Equal(255, At(mended, click));
        Assert.True(Iou(mended, truth) > Iou(prior, truth) + 0.05, $"IoU {Iou(prior, truth):0.000} -> {Iou(mended, truth):0.000}");
        Assert.True(Iou(mended, truth) >= Iou(alone, truth) - 0.02, $"with the prior {Iou(mended, truth):0.000}, from the click alone {Iou(alone, truth):0.000}");
    }

    [Theory]
    [InlineData("blackswan")]
    [InlineData("car-shadow")]
    public void A_click_where_the_track_lost_the_element_selects_it_without_what_the_track_held(string sequence)
    {
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        // The track drifted onto the background: the prior is a patch of the frame's far corner, apart from the element.
        var box = Cv2.BoundingRect(truth);
        var corner = box.X + box.Width / 2 < frame.Width / 2 ? new Rect(frame.Width - 90, 10, 80, 60) : new Rect(10, 10, 80, 60);
        Assert.Equal(0, (corner & box).Width * (corner & box).Height);
        using var prior = new Mat(frame.Size(), MatType.CV_8UC1, Scalar.All(0));
        prior[corner].SetTo(Scalar.All(255));
        var click = Interior(truth);

        using var corrected = _segmenter.Segment(new SegmentRequest(frame, [click], $"test/lost/{sequence}", prior));
        using var alone = _segmenter.Segment(new SegmentRequest(frame, [click], $"test/lost/{sequence}"));

        using var kept = new Mat();
        Cv2.BitwiseAnd(corrected, prior, kept);
        Assert.True(Cv2.CountNonZero(kept) == 0, $"{Cv2.CountNonZero(kept)} pixels of the lost track were kept as the element");
        Assert.True(Iou(corrected, truth) >= 0.7, $"IoU with the ground truth {Iou(corrected, truth):0.000}");
        Assert.True(Iou(corrected, truth) >= Iou(alone, truth) - 0.02, $"corrected {Iou(corrected, truth):0.000}, from the click alone {Iou(alone, truth):0.000}");
    }

    [Fact]
    public void An_exclude_click_alone_takes_a_leak_out_of_a_tracked_mask()
    {
        using var frame = Frame("blackswan");
        using var truth = Truth("blackswan");
        // The track leaked onto the water below the swan.
        var box = Cv2.BoundingRect(truth);
        using var prior = truth.Clone();
        var leak = new Rect(box.X + box.Width / 4, Math.Min(frame.Height - 40, box.Bottom + 5), box.Width / 2, 35);
        prior[leak].SetTo(Scalar.All(255));
        var click = new Click((leak.X + leak.Width / 2.0) / frame.Width, (leak.Y + leak.Height / 2.0) / frame.Height, Include: false);

        using var mended = _segmenter.Segment(new SegmentRequest(frame, [click], "test/prior-leak", prior));

        Assert.Equal(0, At(mended, click));
        Assert.True(Iou(mended, truth) > Iou(prior, truth), $"IoU {Iou(prior, truth):0.000} -> {Iou(mended, truth):0.000}");
        Assert.True(Iou(mended, truth) >= 0.8, $"IoU {Iou(mended, truth):0.000}");
    }

    [Theory]
    [InlineData("libby", 0.8)]
    [InlineData("bmx-trees", 0.6)]
    [InlineData("horsejump-high", 0.85)]
    public void Each_correction_of_a_user_who_clicks_the_largest_error_keeps_the_whole_element(string sequence, double least)
    {
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        var clicks = new List<Click> { Interior(truth) };
        var ious = new List<double>();
        for (var k = 1; k <= 5; k++)
        {
            using var mask = _segmenter.Segment(new SegmentRequest(frame, clicks, $"test/user/{sequence}"));
            ious.Add(Iou(mask, truth));
            clicks.Add(LargestError(mask, truth));
        }

        var trace = string.Join(" -> ", ious.Select(v => v.ToString("0.000")));
        // A correction refines the whole element. Without the selection's box as a prompt, libby's fifth click lost
        // 0.14 IoU and bmx-trees' third 0.44: the decoder gave back the part around the click.
        for (var k = 1; k < ious.Count; k++) Assert.True(ious[k] >= ious[k - 1] - 0.05, $"{sequence}: click {k + 1} lost IoU: {trace}");
        Assert.True(ious[^1] >= least, $"{sequence}: IoU after five clicks: {trace}");
    }

    /// <summary>Where a simulated user clicks next: the point deepest inside the largest missed or leaked region.</summary>
    private static Click LargestError(Mat mask, Mat truth)
    {
        using var missed = new Mat();
        using var leaked = new Mat();
        Cv2.Subtract(truth, mask, missed);
        Cv2.Subtract(mask, truth, leaked);
        return Depth(missed) >= Depth(leaked) ? Interior(missed) : Interior(leaked, include: false);
    }

    private static double Depth(Mat region)
    {
        using var distance = new Mat();
        Cv2.DistanceTransform(region, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        Cv2.MinMaxLoc(distance, out _, out double max);
        return max;
    }
}
