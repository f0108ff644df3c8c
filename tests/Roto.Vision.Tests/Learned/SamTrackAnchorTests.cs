using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Features;
using Roto.Vision.Learned;
using Roto.Vision.Propagation;
using Roto.Vision.Tests.Propagation;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Learned;

public sealed class SamTrackAnchorTests(LearnedModelsFixture models, DavisClipFixture clip) : IClassFixture<LearnedModelsFixture>, IClassFixture<DavisClipFixture>
{
    [Fact]
    public void The_corrected_track_follows_a_real_element_at_least_as_well_as_motion_alone()
    {
        var anchored = Track(new FlowColourPropagator { Anchor = new SamTrackAnchor(models.Models), WorkingWidth = SamTrackAnchor.WorkingWidth }, TrackingEffort.Full);
        var plain = Track(new FlowColourPropagator(), TrackingEffort.Full);

        Assert.True(anchored >= 0.85, $"mean IoU of the corrected track {anchored:0.000}");
        Assert.True(anchored >= plain - 0.01, $"corrected {anchored:0.000} against motion alone {plain:0.000}");
    }

    [Fact]
    public void A_preview_corrects_fewer_frames_than_a_task_to_fit_its_budget()
    {
        // The cost of an encoder pass is fixed here, so the plan does not depend on how busy the machine is.
        var anchor = new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.5, PreviewBudgetSeconds = 1, FullKeyframes = 1000, FullInterval = 1 });
        anchor.Load();
        using var preview = anchor.Begin(300, new Size(640, 360), TrackingEffort.Preview);
        using var full = anchor.Begin(300, new Size(640, 360), TrackingEffort.Full);

        // One second at half a second a pass: two corrected frames in the preview; every frame in the task, whatever a pass costs.
        Assert.Equal(2, Enumerable.Range(0, 300).Count(preview.Anchors));
        Assert.Equal(300, Enumerable.Range(0, 300).Count(full.Anchors));
    }

    [Fact]
    public void A_preview_with_time_to_spare_corrects_every_second_frame_not_every_frame()
    {
        // A budget for hundreds of passes on a 60-frame clip: corrections on consecutive frames drift (SamTrackOptions.MinPreviewInterval).
        var anchor = new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.01, PreviewBudgetSeconds = 8 });
        anchor.Load();
        using var preview = anchor.Begin(60, new Size(640, 360), TrackingEffort.Preview);

        var corrected = Enumerable.Range(0, 60).Where(preview.Anchors).ToArray();
        Assert.Equal(30, corrected.Length);
        Assert.All(corrected.Zip(corrected.Skip(1)), pair => Assert.Equal(2, pair.Second - pair.First));
    }

    [Fact]
    public async Task A_preview_stops_correcting_when_its_passes_overrun_the_budget_and_a_task_does_not()
    {
        // The plan takes a pass to cost 0.1 ms, so it corrects every second frame; a real pass costs far more
        // than the 0.01 s that twice the budget allows, so the preview's first pass is its last.
        var anchor = new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.0001, PreviewBudgetSeconds = 0.005, FullKeyframes = 1000, FullInterval = 2 });
        anchor.Load();
        using var frame = new Mat();
        using (var decoded = await Roto.Media.FrameGrabber.ReadAsync(clip.Video, 0)) Cv2.Resize(decoded, frame, new Size(640, 360));
        using var truth = clip.Truth(0);
        using var probability = new Mat();
        Cv2.Resize(truth, probability, frame.Size(), 0, 0, InterpolationFlags.Nearest);
        probability.ConvertTo(probability, MatType.CV_32FC1, 1.0 / 255);

        int Passes(TrackingEffort effort)
        {
            using var run = (SamTrackAnchor.Run)anchor.Begin(DavisClipFixture.Frames, frame.Size(), effort);
            foreach (var t in new[] { 0, 2, 4, 6 })
            {
                Assert.True(run.Anchors(t));
                run.Correct(t, frame, probability)?.Dispose();
            }
            return run.Passes;
        }

        Assert.Equal(1, Passes(TrackingEffort.Preview));
        Assert.Equal(4, Passes(TrackingEffort.Full));
    }

    [Fact]
    public void A_preview_of_a_taller_frame_plans_fewer_corrections_as_its_encoder_input_is_larger()
    {
        // The pass's time is that of a 16:9 frame (a correction's input is 1024×576); a 4:3 frame's is 1024×768.
        var anchor = new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.5, PreviewBudgetSeconds = 6 });
        anchor.Load();
        using var wide = anchor.Begin(300, new Size(640, 360), TrackingEffort.Preview);
        using var taller = anchor.Begin(300, new Size(640, 480), TrackingEffort.Preview);

        Assert.Equal(12, Enumerable.Range(0, 300).Count(wide.Anchors));
        Assert.Equal(9, Enumerable.Range(0, 300).Count(taller.Anchors));
    }

    [Fact]
    public void A_task_corrects_the_same_frames_however_long_an_encoder_pass_took()
    {
        var fast = new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.3 });
        var slow = new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 3 });
        fast.Load();
        slow.Load();
        using var onFast = fast.Begin(289, new Size(640, 360), TrackingEffort.Full);
        using var onSlow = slow.Begin(289, new Size(640, 360), TrackingEffort.Full);

        var corrected = Enumerable.Range(0, 289).Where(onFast.Anchors).ToArray();
        Assert.Equal(corrected, Enumerable.Range(0, 289).Where(onSlow.Anchors));
        Assert.InRange(corrected.Length, 30, new SamTrackOptions().FullKeyframes);
        // The preview, which must answer in time, does plan by the cost.
        using var previewFast = fast.Begin(289, new Size(640, 360), TrackingEffort.Preview);
        using var previewSlow = slow.Begin(289, new Size(640, 360), TrackingEffort.Preview);
        Assert.True(Enumerable.Range(0, 289).Count(previewFast.Anchors) > Enumerable.Range(0, 289).Count(previewSlow.Anchors));
    }

    [Fact]
    public void A_task_on_a_short_clip_is_tracked_by_feature_matching_and_follows_the_element()
    {
        var matched = Masks(Corrected(taskMatchingMaxFrames: DavisClipFixture.Frames), TrackingEffort.Full);
        var flow = Masks(Corrected(taskMatchingMaxFrames: 0), TrackingEffort.Full);
        try
        {
            var ious = matched.Skip(1).Select((m, i) => { using var truth = clip.Truth(i + 1); return Iou(m, truth); }).ToList();
            Assert.True(ious.Average() >= 0.85, $"mean IoU of the matched task track {ious.Average():0.000}");
            Assert.Contains(matched.Zip(flow), pair => Cv2.Norm(pair.First, pair.Second, NormTypes.L1) > 0);
        }
        finally
        {
            foreach (var m in matched.Concat(flow)) m.Dispose();
        }
    }

    [Fact]
    public void A_preview_of_a_short_clip_is_matched_on_its_corrected_frames_and_follows_the_element()
    {
        var matched = Masks(Corrected(taskMatchingMaxFrames: 0, previewMatchingMaxFrames: DavisClipFixture.Frames), TrackingEffort.Preview);
        var flow = Masks(Corrected(taskMatchingMaxFrames: 0), TrackingEffort.Preview);
        var overLimit = Masks(Corrected(taskMatchingMaxFrames: 0, previewMatchingMaxFrames: DavisClipFixture.Frames - 1), TrackingEffort.Preview);
        try
        {
            var ious = matched.Skip(1).Select((m, i) => { using var truth = clip.Truth(i + 1); return Iou(m, truth); }).ToList();
            Assert.True(ious.Average() >= 0.85, $"mean IoU of the matched preview track {ious.Average():0.000}");
            Assert.Contains(matched.Zip(flow), pair => Cv2.Norm(pair.First, pair.Second, NormTypes.L1) > 0);
            // One frame past the limit the preview is the flow's, frame for frame.
            Assert.All(overLimit.Zip(flow), pair => Assert.Equal(0, Cv2.Norm(pair.First, pair.Second, NormTypes.L1)));
        }
        finally
        {
            foreach (var m in matched.Concat(flow).Concat(overLimit)) m.Dispose();
        }
    }

    [Fact]
    public void A_preview_out_of_matching_time_follows_the_element_by_flow_and_only_time_stops_its_matching()
    {
        var matched = Masks(Corrected(0, DavisClipFixture.Frames), TrackingEffort.Preview);
        // On a clock that stands still a deadline a millisecond away is never reached: the preview matches every corrected frame.
        var notYet = Masks(Corrected(0, DavisClipFixture.Frames, previewMatchingSeconds: 0.001), TrackingEffort.Preview);
        var outOfTime = Masks(Corrected(0, DavisClipFixture.Frames, previewMatchingSeconds: 0), TrackingEffort.Preview);
        try
        {
            Assert.All(notYet.Zip(matched), pair => Assert.Equal(0, Cv2.Norm(pair.First, pair.Second, NormTypes.L1)));
            Assert.Contains(outOfTime.Zip(matched), pair => Cv2.Norm(pair.First, pair.Second, NormTypes.L1) > 0);
            var ious = outOfTime.Skip(1).Select((m, i) => { using var truth = clip.Truth(i + 1); return Iou(m, truth); }).ToList();
            Assert.True(ious.Average() >= 0.85, $"mean IoU of the preview tracked by flow past its matching time {ious.Average():0.000}");
        }
        finally
        {
            foreach (var m in matched.Concat(notYet).Concat(outOfTime)) m.Dispose();
        }
    }

    [Fact]
    public void A_preview_out_of_correction_time_is_carried_by_the_flow_alone_to_its_end()
    {
        // On a clock that stands still a deadline a millisecond away is never reached, and one of 0 s is passed from the start.
        var inTime = new CorrectionCount(new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.5, PreviewOverrun = 100 }));
        var outOfTime = new CorrectionCount(new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.5, PreviewOverrun = 100 }));
        var corrected = Masks(Corrected(0, DavisClipFixture.Frames, previewCorrectionSeconds: 0.001, anchor: inTime), TrackingEffort.Preview);
        var carried = Masks(Corrected(0, DavisClipFixture.Frames, previewCorrectionSeconds: 0, anchor: outOfTime), TrackingEffort.Preview);
        // A task's track is not a preview's: it takes no deadline, and its result does not depend on the machine.
        var taskAnchor = new CorrectionCount(new SamTrackAnchor(models.Models));
        var task = Masks(Corrected(0, DavisClipFixture.Frames, previewCorrectionSeconds: 0, anchor: taskAnchor), TrackingEffort.Full);
        try
        {
            Assert.True(inTime.Corrections > 0, "a preview in time should be corrected");
            Assert.Equal(0, outOfTime.Corrections);
            Assert.True(taskAnchor.Corrections > 0, "a task's track should be corrected whatever the preview's deadline");
            var ious = carried.Skip(1).Select((m, i) => { using var truth = clip.Truth(i + 1); return Iou(m, truth); }).ToList();
            Assert.True(ious.Average() >= 0.8, $"mean IoU of the preview carried by the flow alone {ious.Average():0.000}");
        }
        finally
        {
            foreach (var m in corrected.Concat(carried).Concat(task)) m.Dispose();
        }
    }

    /// <summary>The anchor's corrections as they are, counted.</summary>
    private sealed class CorrectionCount(ITrackAnchor anchor) : ITrackAnchor
    {
        private int _corrections;
        public int Corrections => _corrections;

        public IAnchorRun Begin(int frameCount, Size workingSize, TrackingEffort effort) => new Counted(anchor.Begin(frameCount, workingSize, effort), this);

        public void Load() => anchor.Load();

        private sealed class Counted(IAnchorRun run, CorrectionCount count) : IAnchorRun
        {
            public bool Anchors(int frameIndex) => run.Anchors(frameIndex);

            public Mat? Correct(int frameIndex, Mat frame, Mat probability, Mat? fullFrame = null)
            {
                var corrected = run.Correct(frameIndex, frame, probability, fullFrame);
                if (corrected != null) Interlocked.Increment(ref count._corrections);
                return corrected;
            }

            public void Dispose() => run.Dispose();
        }
    }

    /// <summary>A clock that stands still.</summary>
    private sealed class FrozenClock : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }

    [Fact]
    public void A_preview_and_a_task_on_a_clip_past_the_matching_limit_keep_the_flow_track()
    {
        // The limit is on the clip's frame count: one frame past it, the task's track is the flow's, frame for frame.
        var overLimit = Masks(Corrected(taskMatchingMaxFrames: DavisClipFixture.Frames - 1), TrackingEffort.Full);
        var flow = Masks(Corrected(taskMatchingMaxFrames: 0), TrackingEffort.Full);
        var preview = Masks(Corrected(taskMatchingMaxFrames: DavisClipFixture.Frames), TrackingEffort.Preview);
        var flowPreview = Masks(Corrected(taskMatchingMaxFrames: 0), TrackingEffort.Preview);
        try
        {
            Assert.All(overLimit.Zip(flow), pair => Assert.Equal(0, Cv2.Norm(pair.First, pair.Second, NormTypes.L1)));
            Assert.All(preview.Zip(flowPreview), pair => Assert.Equal(0, Cv2.Norm(pair.First, pair.Second, NormTypes.L1)));
        }
        finally
        {
            foreach (var m in overLimit.Concat(flow).Concat(preview).Concat(flowPreview)) m.Dispose();
        }
    }

    [Fact]
    public void A_correction_also_mends_the_streamed_frames_before_it()
    {
        // dance-twirl's dancer turns: the flow's mask drifts within a few frames of each correction. Three corrections'
        // worth of budget over 18 frames puts them on frames 0, 6 and 12 (frame 0 is the marked one).
        const int frames = 18;
        var dir = TestData.TempDir("roto-blend-back");
        try
        {
            var video = DavisClipFixture.MakeVideo("dance-twirl", frames, dir);
            var options = new SamTrackOptions { SecondsPerEncode = 1, PreviewBudgetSeconds = 3, PreviewOverrun = 100 }; // the plan alone places the corrections, however busy the machine
            var blended = TrackIous(video, "dance-twirl", new FlowColourPropagator { Anchor = new SamTrackAnchor(models.Models, options), WorkingWidth = SamTrackAnchor.WorkingWidth });
            var forward = TrackIous(video, "dance-twirl", new FlowColourPropagator { Anchor = new SamTrackAnchor(models.Models, options), WorkingWidth = SamTrackAnchor.WorkingWidth, BlendBack = 0 });

            // Before a correction: tracked back from it and blended, closer to the truth.
            var before = Enumerable.Range(1, 11).Where(t => t != 6).ToList();
            var gain = before.Average(t => blended[t] - forward[t]);
            Assert.True(gain >= 0.02, $"frames before a correction: mean IoU {before.Average(t => blended[t]):0.000} blended against {before.Average(t => forward[t]):0.000} forward only");
            // The corrected frames themselves, and the frames after the last correction (none follows to reach back), are as the forward track left them.
            foreach (var t in new[] { 6, 12, 13, 17 }) Assert.Equal(forward[t], blended[t], 6);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Each frame's IoU with the truth, the track started from the truth on frame 0 (a preview's plan).</summary>
    private static double[] TrackIous(Roto.Media.VideoSource video, string sequence, FlowColourPropagator propagator)
    {
        propagator.Anchor!.Load();
        Mat Truth(int t) => Cv2.ImRead(Path.Combine(TestData.Davis(sequence), "masks", $"{t:D5}.png"), ImreadModes.Grayscale).Threshold(127, 255, ThresholdTypes.Binary);
        using var first = Truth(0);
        var ious = new double[video.FrameCount];
        propagator.Propagate(video, [new Keyframe(0, 1, first)], (i, _, masks) =>
        {
            using var truth = Truth(i);
            ious[i] = Iou(masks[1], truth);
        }, null, TrackingEffort.Preview, CancellationToken.None);
        return ious;
    }

    private FlowColourPropagator Corrected(int taskMatchingMaxFrames, int previewMatchingMaxFrames = 0, double previewMatchingSeconds = 15,
        double previewCorrectionSeconds = 20, ITrackAnchor? anchor = null) => new()
    {
        // A clock that stands still: the preview's deadlines do not then depend on how busy the machine is.
        PreviewMatchingSeconds = previewMatchingSeconds,
        PreviewCorrectionSeconds = previewCorrectionSeconds,
        Time = new FrozenClock(),
        // A fixed encoder cost and no cap on the passes' time: the preview's key frames do not then depend on how busy the machine is.
        Anchor = anchor ?? new SamTrackAnchor(models.Models, new SamTrackOptions { SecondsPerEncode = 0.5, PreviewOverrun = 100 }),
        WorkingWidth = SamTrackAnchor.WorkingWidth,
        TaskFeatures = FrameFeatures.ForTracking(),
        TaskMatchingMaxFrames = taskMatchingMaxFrames,
        PreviewFeatures = FrameFeatures.ForTracking(),
        PreviewMatchingMaxFrames = previewMatchingMaxFrames,
    };

    private List<Mat> Masks(FlowColourPropagator propagator, TrackingEffort effort)
    {
        propagator.Anchor!.Load();
        using var first = clip.Truth(0);
        using var mask = first.Threshold(127, 255, ThresholdTypes.Binary);
        var masks = new List<Mat>();
        propagator.Propagate(clip.Video, [new Keyframe(0, 1, mask)], (_, _, tracked) => masks.Add(tracked[1].Clone()), null, effort, CancellationToken.None);
        return masks;
    }

    private double Track(FlowColourPropagator propagator, TrackingEffort effort)
    {
        using var first = clip.Truth(0);
        using var mask = first.Threshold(127, 255, ThresholdTypes.Binary);
        var ious = new List<double>();
        propagator.Propagate(clip.Video, [new Keyframe(0, 1, mask)], (i, _, masks) =>
        {
            if (i == 0) return;
            using var truth = clip.Truth(i);
            ious.Add(Iou(masks[1], truth));
        }, null, effort, CancellationToken.None);
        return ious.Average();
    }
}
