using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision.Learned;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Learned;

/// <summary>
/// The cues the first click's mask is chosen by beyond the decoder's own pick: all of the decoder's masks, and what
/// moves against a later frame. The scenes: davis16-dev libby (a dog) pasted with its true masks onto frames of the
/// real clip 03_blocks, whose wooden blocks and grid share the dog's colours; car-shadow (a car) pasted over the bed of
/// the real clip bedroom; one click on the element.
/// </summary>
public sealed class FirstClickCueTests(LearnedModelsFixture fixture) : IClassFixture<LearnedModelsFixture>
{
    [Fact]
    public void The_decoder_gives_all_four_of_its_masks_and_the_one_it_keeps_is_among_them()
    {
        using var frame = Frame("dog");
        using var truth = Truth("dog");
        var click = Interior(truth);
        var embedding = fixture.Models.Encoder.Encode(frame);
        var point = new PromptPoint((float)(click.X * frame.Width), (float)(click.Y * frame.Height), 1);

        Assert.True(fixture.Models.Decoder.ExposesAllMasks);
        var candidates = fixture.Models.Decoder.Decode(embedding, [point], null, frame.Size(), allMasks: true);
        try
        {
            Assert.Equal(5, candidates.Count);
            using var kept = candidates[0].Binary();
            // The export keeps the multimask token it rates best; ours are upsampled as the export does it.
            var best = candidates.Skip(2).MaxBy(c => c.PredictedIou)!;
            Assert.Equal(candidates[0].PredictedIou, best.PredictedIou, 4);
            using var same = best.Binary();
            Assert.True(Iou(kept, same) > 0.99, $"IoU of the export's mask and its token {Iou(kept, same):0.000}");
            // The tokens differ: a part, a larger part, the whole.
            var areas = candidates.Skip(1).Select(c => { using var m = c.Binary(); return Cv2.CountNonZero(m); }).ToList();
            Assert.True(areas.Max() > 1.2 * areas.Min(), $"areas {string.Join(", ", areas)}");
        }
        finally
        {
            foreach (var c in candidates) c.Dispose();
        }
    }

    [Fact]
    public void The_moving_region_is_the_pasted_element_not_the_still_background()
    {
        var (frame, later, truth) = PastedDog();
        using (frame)
        using (later)
        using (truth)
        using (var moving = MovingRegion.Moving(frame, later, frame.Size()))
        {
            using var inside = new Mat();
            Cv2.BitwiseAnd(moving, truth, inside);
            var covered = Cv2.CountNonZero(inside) / (double)Cv2.CountNonZero(truth);
            var share = Cv2.CountNonZero(moving) / (double)(frame.Width * frame.Height);
            Assert.True(covered > 0.5, $"the moving region covers {covered:P0} of the dog");
            Assert.True(share < 0.35, $"{share:P0} of the frame moves");
        }
    }

    [Fact]
    public void A_later_frame_lets_one_click_select_the_whole_element_where_its_colours_run_into_the_background()
    {
        var (frame, later, truth) = PastedDog();
        using (frame)
        using (later)
        using (truth)
        {
            var click = Interior(truth);
            var segmenter = new SamClickSegmenter(fixture.Models);
            using var alone = segmenter.Segment(new SegmentRequest(frame, [click], null));
            using var withMotion = segmenter.Segment(new SegmentRequest(frame, [click], null, Later: later));

            var (a, m) = (Iou(alone, truth), Iou(withMotion, truth));
            Assert.True(m >= 0.6, $"IoU with a later frame {m:0.000}");
            Assert.True(m > a + 0.2, $"IoU with a later frame {m:0.000}, without {a:0.000}");
        }
    }

    [Fact]
    public void One_click_on_a_car_over_a_bed_selects_the_car_and_not_the_still_bed()
    {
        var (frame, later, truth) = Pasted("car-shadow", "bedroom.mp4");
        using (frame)
        using (later)
        using (truth)
        {
            // Scored alone, the decoder's favourite wins: the car, the pillows and the bed below them, which stay still.
            var byScoreAlone = FirstClickIou(new SamSegmenterOptions { StillShare = 0 }, frame, later, truth);
            var served = FirstClickIou(new SamSegmenterOptions(), frame, later, truth);
            Assert.True(served > byScoreAlone + 0.2, $"IoU cut to the moving part {served:0.000}, as scored {byScoreAlone:0.000}");
            Assert.True(served >= 0.85, $"IoU {served:0.000}");
        }
    }

    [Fact]
    public void A_dancer_is_not_cut_to_the_parts_that_move()
    {
        // breakdance frame 0: a third of the dancer is still; decoding again with the box of the moving part loses
        // limbs and moves no more than the whole dancer did, so the whole stays.
        var (frame, later, truth) = DavisFrames("breakdance", 0);
        using (frame)
        using (later)
        using (truth)
        {
            var cutAnyway = FirstClickIou(new SamSegmenterOptions { CutShareGain = -1 }, frame, later, truth);
            var served = FirstClickIou(new SamSegmenterOptions(), frame, later, truth);
            Assert.True(served > cutAnyway + 0.1, $"IoU {served:0.000}, cut anyway {cutAnyway:0.000}");
        }
    }

    [Fact]
    public void A_salient_speck_under_the_click_does_not_make_the_first_click_select_a_speck()
    {
        // libby frame 40: the dog half hidden behind a tree; the saliency network sees only a few pixels under the click.
        var (frame, later, truth) = DavisFrames("libby", 40);
        using (frame)
        using (later)
        using (truth)
        {
            var specks = FirstClickIou(new SamSegmenterOptions { MinCueRegion = 0 }, frame, later, truth);
            var served = FirstClickIou(new SamSegmenterOptions(), frame, later, truth);
            Assert.True(specks < 0.1, $"with speck-sized cues the click's mask has IoU {specks:0.000}; this scene no longer shows the speck");
            Assert.True(served >= 0.3, $"IoU {served:0.000}");
        }
    }

    /// <summary>The IoU with the truth of one click at the truth's interior, with the frame three on as the later frame.</summary>
    private double FirstClickIou(SamSegmenterOptions options, Mat frame, Mat later, Mat truth)
    {
        using var mask = new SamClickSegmenter(fixture.Models, options).Segment(new SegmentRequest(frame, [Interior(truth)], null, Later: later));
        return Iou(mask, truth);
    }

    /// <summary>A davis16-dev frame, the frame three on, and the frame's true mask.</summary>
    private static (Mat Frame, Mat Later, Mat Truth) DavisFrames(string sequence, int index)
    {
        var davis = TestData.Davis(sequence);
        var truth = Cv2.ImRead(Path.Combine(davis, "masks", $"{index:D5}.png"), ImreadModes.Grayscale);
        Cv2.Threshold(truth, truth, 127, 255, ThresholdTypes.Binary);
        return (Cv2.ImRead(Path.Combine(davis, "frames", $"{index:D5}.jpg")), Cv2.ImRead(Path.Combine(davis, "frames", $"{index + 3:D5}.jpg")), truth);
    }

    private static (Mat Frame, Mat Later, Mat Truth) PastedDog() => Pasted("libby", "03_blocks.mp4");

    /// <summary>Frames 0 and 3 of a DAVIS sequence pasted onto frames 0 and 3 of a real clip, and the element's true mask on frame 0.</summary>
    private static (Mat Frame, Mat Later, Mat Truth) Pasted(string sequence, string clip)
    {
        var davis = TestData.Davis(sequence);
        using var first = Cv2.ImRead(Path.Combine(davis, "frames", "00000.jpg"));
        using var reader = new VideoFrameReader(new MediaTools(), TestData.Clip(clip), first.Width, first.Height);
        var backgrounds = Enumerable.Range(0, 4).Select(_ => reader.ReadFrame() ?? throw new InvalidOperationException("clip too short")).ToList();
        Mat Paste(int index, out Mat mask)
        {
            using var element = Cv2.ImRead(Path.Combine(davis, "frames", $"{index:D5}.jpg"));
            mask = Cv2.ImRead(Path.Combine(davis, "masks", $"{index:D5}.png"), ImreadModes.Grayscale);
            Cv2.Threshold(mask, mask, 127, 255, ThresholdTypes.Binary);
            using var alpha = new Mat();
            mask.ConvertTo(alpha, MatType.CV_32FC1, 1 / 255.0);
            Cv2.GaussianBlur(alpha, alpha, new Size(3, 3), 0);
            var composite = backgrounds[index].Clone();
            AlphaBlend.Into(composite, element, alpha);
            return composite;
        }
        try
        {
            var frame = Paste(0, out var truth);
            var later = Paste(3, out var laterMask);
            laterMask.Dispose();
            return (frame, later, truth);
        }
        finally
        {
            foreach (var b in backgrounds) b.Dispose();
        }
    }
}
