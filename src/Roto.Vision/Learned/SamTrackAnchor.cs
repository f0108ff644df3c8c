using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenCvSharp;
using Roto.Vision.Propagation;

namespace Roto.Vision.Learned;

/// <summary>Settings of <see cref="SamTrackAnchor"/>.</summary>
public sealed record SamTrackOptions
{
    /// <summary>Encoder time a preview may spend on corrections, in seconds; key frames are spaced to fit it.</summary>
    public double PreviewBudgetSeconds { get; init; } = 8;

    /// <summary>
    /// Most corrected frames in a task's track. A count, not a time: a task's result must not depend on how busy its
    /// worker was when it started (a budget in seconds gave one worker 13 corrections and the next 18 for the same
    /// task). 40 is what 24 s of encoder time bought on 2 cores, so a removal on a 2-core machine stays within tens of seconds.
    /// </summary>
    public int FullKeyframes { get; init; } = 40;

    /// <summary>Least frames between two corrected frames in a task's track (1 = every frame when the budget allows).</summary>
    public int FullInterval { get; init; } = 2;

    /// <summary>
    /// Least frames between two corrected frames in a preview. Every frame is worse than every second one: each
    /// correction follows the track's box a little, and frame after frame the small slips add up (davis16-dev `mask`,
    /// one pass pinned at 0.42 s and the budget unbounded: every frame 0.642, every second 0.681, every third 0.678;
    /// drift-chicane 0.046 / 0.401 / 0.248).
    /// </summary>
    public int MinPreviewInterval { get; init; } = 2;

    /// <summary>
    /// A preview stops correcting once its encoder passes have taken this many times its budget. The plan counts on
    /// the pass timed at load; beside a task or another preview the passes cost more, and the planned count would
    /// outlast the 30 s that clients wait (a 40-frame DAVIS clip took 32 s beside the test suite). On a machine as
    /// quiet as at load the passes stay within the budget and the cap never acts.
    /// </summary>
    public double PreviewOverrun { get; init; } = 2;

    /// <summary>Seconds one encoder pass is taken to cost when planning a preview; 0 measures it at load (benchmarks fix it to compare runs on a busy machine).</summary>
    public double SecondsPerEncode { get; init; }

    /// <summary>A correction whose area is more than this many times the track's (or less than its inverse) is left out.</summary>
    public double MaxAreaChange { get; init; } = 1.6;

    /// <summary>Whether the tracked probability is given to the decoder as its <c>mask_input</c>.</summary>
    public bool MaskPrompt { get; init; } = true;

    /// <summary>A correction that agrees with the track less than this (IoU) is taken as the decoder losing the element, and left out.</summary>
    public double MinAgreement { get; init; } = 0.4;

    /// <summary>How much the box prompt is widened beyond the tracked mask's box, as a share of its size.</summary>
    public double BoxPadding { get; init; }

    public override string ToString() =>
        $"preview budget {PreviewBudgetSeconds} s (overrun {PreviewOverrun}), full key frames {FullKeyframes}, full interval {FullInterval}, mask prompt {MaskPrompt}, min agreement {MinAgreement}, max area change {MaxAreaChange}, seconds per encode {SecondsPerEncode}, box padding {BoxPadding}";
}

/// <summary>
/// Corrects the motion tracker's mask on key frames with SAM: the frame is encoded and the decoder is prompted with
/// the tracked mask's box, its most interior point and the mask itself, so it redraws the element's outline from the
/// image instead of from the warped past. A preview's key frames are spaced so the encoder passes fit a few seconds
/// (one pass's cost is measured at load), since it answers in its request; a task's are a fixed count, so its result
/// is the same on any worker.
/// </summary>
public sealed class SamTrackAnchor(SamModels models, SamTrackOptions? options = null) : ITrackAnchor
{
    /// <summary>
    /// The motion tracker's working width when SAM corrects it. The encoder sees the full frames as they stream past
    /// (and the working frames only before the last marked frame), so the tracker keeps a width whose cost fits a
    /// 10 s 1080p60 preview inside the 30 s that clients wait.
    /// </summary>
    public const int WorkingWidth = 480;

    private readonly SamTrackOptions _options = options ?? new SamTrackOptions();
    private double _secondsPerEncode = 0.6;

    public SamTrackOptions Options => _options;

    /// <summary>Seconds one encoder pass took when last measured (at <see cref="Load"/>).</summary>
    public double SecondsPerEncode => _secondsPerEncode;

    /// <summary>The frame size the encoder pass is timed on; a frame of another shape may be encoded on a larger or smaller input.</summary>
    private static readonly Size MeasuredSize = new(640, 360);

    /// <summary>
    /// Opens the encoder's inputs, then runs the encoder on a drawn frame: one pass to set it up, then
    /// <see cref="TimedPasses"/> timed ones whose median the preview's key frames are planned by.
    /// </summary>
    public void Load()
    {
        // The click segmenter's input for 16:9 frames is opened here too, so that the first click does not wait for it.
        using var small = new Mat(MeasuredSize.Height / 10, MeasuredSize.Width / 10, MatType.CV_8UC3, Scalar.All(0));
        models.Encoder.Encode(small);
        if (_options.SecondsPerEncode > 0)
        {
            _secondsPerEncode = _options.SecondsPerEncode;
            models.Encoder.Encode(small, flush: true);
            return;
        }
        using var frame = new Mat(MeasuredSize, MatType.CV_8UC3, new Scalar(90, 120, 60));
        models.Encoder.Encode(frame, flush: true);
        var seconds = new double[TimedPasses];
        for (var i = 0; i < seconds.Length; i++)
        {
            var watch = Stopwatch.StartNew();
            models.Encoder.Encode(frame, flush: true);
            seconds[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(seconds);
        _secondsPerEncode = seconds[seconds.Length / 2];
    }

    /// <summary>
    /// Passes timed at load. One pass, timed while the server's start shared the cores with other work, ranged
    /// 0.37–0.55 s over eight starts on a 2-core machine, and with it the preview's key frames from 22 to 15; the
    /// median of three is steadier (on an idle, warm server 0.23 and 0.24 s).
    /// </summary>
    private const int TimedPasses = 3;

    public IAnchorRun Begin(int frameCount, Size workingSize, TrackingEffort effort)
    {
        var (keyframes, least) = effort == TrackingEffort.Full
            ? (_options.FullKeyframes, _options.FullInterval)
            : (_options.PreviewBudgetSeconds / SecondsPerEncodeAt(workingSize), _options.MinPreviewInterval);
        var interval = Math.Max(Math.Max(1, least), (int)Math.Ceiling(frameCount / Math.Max(1, keyframes)));
        // A task's corrections are a count, the same on any worker; a preview's are also bounded in time.
        var maxEncoderSeconds = effort == TrackingEffort.Full ? double.PositiveInfinity : _options.PreviewOverrun * _options.PreviewBudgetSeconds;
        return new Run(models, _options, interval, maxEncoderSeconds);
    }

    /// <summary>The pass's time for frames of this shape: the encoder's time grows with its input's area.</summary>
    private double SecondsPerEncodeAt(Size frame)
    {
        var measured = models.Encoder.InputSize(MeasuredSize, flush: true);
        var input = models.Encoder.InputSize(frame, flush: true);
        return _secondsPerEncode * input.Width * input.Height / (measured.Width * measured.Height);
    }

    internal sealed class Run(SamModels models, SamTrackOptions options, int interval, double maxEncoderSeconds) : IAnchorRun
    {
        // Both directions of a gap and every element visit the same key frames: each is encoded once while it is
        // among the last few (about 4 MB each; the streamed frames are visited once, all elements in a row).
        private readonly LruCache<SamEmbedding> _embeddings = new(24);

        public int Interval => interval;

        /// <summary>Encoder passes this run has made, and the seconds they took.</summary>
        internal int Passes { get; private set; }
        internal double EncoderSeconds { get; private set; }

        public bool Anchors(int frameIndex) => frameIndex % interval == 0;

        public Mat? Correct(int frameIndex, Mat frame, Mat probability, Mat? fullFrame = null)
        {
            using var binary = new Mat();
            Cv2.Threshold(probability, binary, 0.5, 255, ThresholdTypes.Binary);
            binary.ConvertTo(binary, MatType.CV_8UC1);
            var area = Cv2.CountNonZero(binary);
            if (area < 16) return null;
            var box = Cv2.BoundingRect(binary);
            var pad = (int)(options.BoxPadding * Math.Max(box.Width, box.Height));
            box = new Rect(box.X - pad, box.Y - pad, box.Width + 2 * pad, box.Height + 2 * pad).Intersect(new Rect(0, 0, frame.Cols, frame.Rows));
            var inner = Interior(binary);

            var key = frameIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!_embeddings.TryGet(key, out var embedding))
            {
                if (EncoderSeconds >= maxEncoderSeconds) return null;
                // The encoder sees the full frame when there is one: the tracker's working size is coarse for it.
                var watch = Stopwatch.StartNew();
                embedding = models.Encoder.Encode(fullFrame ?? frame, flush: true);
                EncoderSeconds += watch.Elapsed.TotalSeconds;
                Passes++;
                _embeddings.Put(key, embedding);
            }

            // Prompts are in the encoded frame's pixels; the mask comes back at working size.
            var k = embedding.FrameSize.Width / (float)frame.Cols;
            var points = new List<PromptPoint>
            {
                new((inner.X + 0.5f) * k, (inner.Y + 0.5f) * k, 1),
                new(box.Left * k, box.Top * k, 2),
                new(box.Right * k, box.Bottom * k, 3),
            };
            var maskInput = options.MaskPrompt ? SamDecoder.MaskPrompt(probability) : null;
            var candidates = models.Decoder.Decode(embedding, points, maskInput, frame.Size());
            try
            {
                using var mask = candidates[0].Binary();
                var ratio = Cv2.CountNonZero(mask) / (double)area;
                if (MaskMats.Iou(mask, binary) < options.MinAgreement || ratio > options.MaxAreaChange || ratio < 1 / options.MaxAreaChange) return null;
                var corrected = new Mat();
                mask.ConvertTo(corrected, MatType.CV_32FC1, 1.0 / 255);
                return corrected;
            }
            finally
            {
                foreach (var c in candidates) c.Dispose();
            }
        }

        private static Point Interior(Mat binary)
        {
            using var distance = new Mat();
            Cv2.DistanceTransform(binary, distance, DistanceTypes.L2, DistanceTransformMasks.Mask5);
            Cv2.MinMaxLoc(distance, out _, out _, out _, out Point at);
            return at;
        }

        public void Dispose() { }
    }
}
