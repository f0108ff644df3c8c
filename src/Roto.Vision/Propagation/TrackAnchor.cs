using OpenCvSharp;

namespace Roto.Vision.Propagation;

/// <summary>
/// Corrects a tracked element on some frames with a per-frame model that the track prompts (a learned segmenter
/// given the tracked box and mask), so that motion only has to carry the mask between corrected frames and its
/// drift does not add up.
/// </summary>
public interface ITrackAnchor
{
    /// <summary>Starts one propagation over <paramref name="frameCount"/> frames tracked at <paramref name="workingSize"/>.</summary>
    /// <param name="effort">How much time the propagation may spend (a preview answers in the same request, a task does not).</param>
    IAnchorRun Begin(int frameCount, Size workingSize, TrackingEffort effort);

    /// <summary>Loads the networks and measures what planning needs, ahead of the first preview.</summary>
    void Load() { }
}

/// <summary>One propagation's corrections; caches what several elements or both directions share.</summary>
public interface IAnchorRun : IDisposable
{
    /// <summary>Whether this frame gets a correction.</summary>
    bool Anchors(int frameIndex);

    /// <param name="frame">The frame at working size, BGR.</param>
    /// <param name="probability">The tracker's probability of the element, CV_32FC1 in [0, 1] at working size.</param>
    /// <param name="fullFrame">The same frame at full size when the caller has it (the streamed frames), else null.</param>
    /// <returns>The corrected probability (CV_32FC1 at working size, the caller disposes it), or null to keep the tracker's own.</returns>
    Mat? Correct(int frameIndex, Mat frame, Mat probability, Mat? fullFrame = null);
}
