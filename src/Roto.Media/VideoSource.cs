namespace Roto.Media;

/// <summary>A normalized video on disk with the facts needed to decode it frame by frame.</summary>
public sealed record VideoSource(MediaTools Tools, string Path, int Width, int Height, FrameRate Fps, int FrameCount)
{
    /// <summary>Opens a decoder; width and height 0 keep the full size.</summary>
    public VideoFrameReader OpenReader(int width = 0, int height = 0, bool gray = false) =>
        new(Tools, Path, width == 0 ? Width : width, height == 0 ? Height : height, gray, threads: Tools.Threads);
}
