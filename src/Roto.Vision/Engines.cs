using OpenCvSharp;
using Roto.Media;

namespace Roto.Vision;

/// <summary>A click on a frame: coordinates are fractions of the frame size, origin top-left.</summary>
public readonly record struct Click(double X, double Y, bool Include = true);

/// <summary>What the segmenter is asked: one element on one frame.</summary>
/// <param name="Frame">The frame, BGR, full resolution. Owned by the caller.</param>
/// <param name="Clicks">Every point of this element on this frame, in the order they were added.</param>
/// <param name="CacheKey">Identifies the frame (session and frame index) for per-frame caches; null disables caching.</param>
/// <param name="Prior">
/// The element's mask on this frame before the first click (CV_8UC1, frame size; the caller owns it), or null: the
/// preview's track where a person corrects a frame that was not marked. A segmenter that can refines it with the
/// clicks, so a correction mends the track instead of starting over; one that cannot ignores it.
/// </param>
/// <param name="Later">
/// A later frame of the same video (BGR, any size of the frame's aspect; the caller owns it), or null: what moves
/// between the two tells the element from still background of its colours. A segmenter that cannot use it ignores it.
/// </param>
public sealed record SegmentRequest(Mat Frame, IReadOnlyList<Click> Clicks, string? CacheKey, Mat? Prior = null, Mat? Later = null);

/// <summary>Turns clicks on a frame into the mask of one element.</summary>
public interface IClickSegmenter
{
    /// <returns>A CV_8UC1 mask of the frame's size, 255 = element, 0 = not; the caller disposes it.</returns>
    Mat Segment(SegmentRequest request);

    /// <summary>
    /// Does the work of a frame that does not depend on clicks ahead of the first click, cached under
    /// <paramref name="cacheKey"/>; <paramref name="later"/> is as <see cref="SegmentRequest.Later"/>.
    /// </summary>
    void Prepare(Mat frame, string cacheKey, Mat? later = null) { }

    /// <summary>
    /// How many frames on the frame given as <see cref="SegmentRequest.Later"/> lies (before it where the video ends
    /// sooner); 0 where the segmenter does not use one, so callers need not decode it.
    /// </summary>
    int LaterFrames => 0;

    /// <summary>
    /// Loads what every frame needs (a network, compiled code paths) ahead of the first frame, so that the first click
    /// after a start costs what later first clicks cost.
    /// </summary>
    void Load() { }
}

/// <summary>The mask of one element on one marked frame: what propagation starts from.</summary>
public sealed record Keyframe(int FrameIndex, int ObjectId, Mat Mask);

/// <summary>Receives each frame in order with the mask of every element on it; both are only valid during the call.</summary>
public delegate void TrackedFrameHandler(int frameIndex, Mat frame, IReadOnlyDictionary<int, Mat> masks);

/// <summary>Follows the selected elements from their marked frames through the whole video.</summary>
public interface IMaskPropagator
{
    /// <summary>
    /// Calls <paramref name="onFrame"/> for frames 0 … FrameCount−1 in order with the full-resolution frame
    /// and a CV_8UC1 0/255 mask for each object id present in <paramref name="keyframes"/>.
    /// </summary>
    void Propagate(VideoSource video, IReadOnlyList<Keyframe> keyframes, TrackedFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct);

    /// <summary>The same with a time allowance: a preview answers in its request, a task may take the full-quality track.</summary>
    void Propagate(VideoSource video, IReadOnlyList<Keyframe> keyframes, TrackedFrameHandler onFrame,
        IProgress<double>? progress, TrackingEffort effort, CancellationToken ct) => Propagate(video, keyframes, onFrame, progress, ct);

    /// <summary>Whether a preview's track is the one a task would compute (true unless the preview leaves costly corrections out to answer in time).</summary>
    bool PreviewIsFull => true;

    /// <summary>Loads what every preview needs (a network) ahead of the first one, so that the first preview after a start costs what later ones cost.</summary>
    void Load() { }
}

/// <summary>How much time a propagation may spend.</summary>
public enum TrackingEffort
{
    /// <summary>Answers inside the request (preview-selection): the costly corrections only on key frames, within a time budget.</summary>
    Preview,
    /// <summary>Runs in a task: the full-quality track.</summary>
    Full,
}

/// <summary>Masks of the selected elements on every frame, as the tracker produced them.</summary>
public interface IMaskTrack
{
    int FrameCount { get; }
    /// <summary>The union of every element's mask on a frame, CV_8UC1 0/255 at full size; the caller disposes it.</summary>
    Mat UnionMask(int frameIndex);
}

/// <summary>Receives each output frame in order; the frame is only valid during the call.</summary>
public delegate void OutputFrameHandler(int frameIndex, Mat frame);

/// <summary>Removes the tracked elements from a video.</summary>
public interface IElementRemover
{
    void Remove(VideoSource video, IMaskTrack track, OutputFrameHandler onFrame, IProgress<double>? progress, CancellationToken ct);
}

/// <summary>Where an added element stands: centre as fractions of the frame, scale as a fraction of the frame height.</summary>
public sealed record Placement(double X, double Y, double Scale);

/// <summary>An image's subject with its alpha: BGRA, the caller owns it.</summary>
public sealed record Subject(Mat Bgra);

/// <summary>Places subjects of reference images into a video.</summary>
public interface IElementCompositor
{
    /// <summary>Removes the tracked element with <paramref name="remover"/> and puts the subject in its place on every frame.</summary>
    void Swap(VideoSource video, IMaskTrack track, Subject subject, IElementRemover remover, OutputFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct);

    /// <summary>Adds subjects to the scene, anchored to the tracked region when there is one, else at the placement or a default spot.</summary>
    void Add(VideoSource video, IMaskTrack? track, IReadOnlyList<Subject> subjects, Placement? placement, OutputFrameHandler onFrame,
        IProgress<double>? progress, CancellationToken ct);
}

/// <summary>Separates the subject of a reference image from its background.</summary>
public interface ISubjectExtractor
{
    /// <param name="image">The decoded image, BGR or BGRA. A BGRA image's alpha is used as it is.</param>
    Subject Extract(Mat image);
}
