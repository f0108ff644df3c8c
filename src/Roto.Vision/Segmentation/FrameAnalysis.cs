using OpenCvSharp;

namespace Roto.Vision.Segmentation;

/// <summary>
/// Everything about one frame that does not depend on the clicks: the frame at working resolution, its superpixels,
/// their adjacency and a descriptor per superpixel (colour plus ResNet features). Built once per frame and cached;
/// held in managed arrays so that a cache eviction never frees memory that another request still reads.
/// </summary>
public sealed class FrameAnalysis
{
    public required Size FrameSize { get; init; }
    public required Size WorkSize { get; init; }
    /// <summary>The frame at working resolution, BGR, row-major; the guide for edge refinement.</summary>
    public required byte[] WorkBgr { get; init; }
    /// <summary>Superpixel id per working pixel, row-major.</summary>
    public required int[] Labels { get; init; }
    public required int Count { get; init; }
    /// <summary>Descriptor per superpixel, each of <see cref="DescriptorLength"/> floats, row-major.</summary>
    public required float[] Descriptors { get; init; }
    public required int DescriptorLength { get; init; }
    /// <summary>The descriptors projected to <see cref="ProjectedLength"/> random directions: what the linear probe reads, so that fitting it stays cheap.</summary>
    public required float[] Projected { get; init; }
    public required int ProjectedLength { get; init; }
    /// <summary>Pixel count per superpixel.</summary>
    public required int[] Area { get; init; }
    /// <summary>Centroid per superpixel, working pixels.</summary>
    public required Point2f[] Centroid { get; init; }
    /// <summary>Whether a superpixel touches the frame's edge.</summary>
    public required bool[] OnBorder { get; init; }
    /// <summary>Adjacent superpixel pairs.</summary>
    public required IReadOnlyList<SuperpixelEdge> Edges { get; init; }
    /// <summary>Adjacent superpixel ids per superpixel.</summary>
    public required int[][] Neighbours { get; init; }

    /// <summary>Superpixel labels already computed for click sequences on this frame (see <see cref="ClickReplay"/>).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, bool[]> Memo { get; } = new();

    /// <summary>Refined working-resolution masks already computed for click sequences on this frame (see <see cref="MaskReplay"/>).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> MaskMemo { get; } = new();

    private PixelContrast? _contrast;

    /// <summary>The contrast weights of the edge refinement's graph, computed on the first click that needs them.</summary>
    public PixelContrast Contrast => LazyInitializer.EnsureInitialized(ref _contrast, () => PixelContrast.Of(WorkBgr, WorkSize.Width, WorkSize.Height));

    private float[]? _probeGram;

    /// <summary>The area-weighted Gram matrix of the projected descriptors that every linear-probe fit starts from (see <see cref="LinearProbe"/>).</summary>
    internal float[] ProbeGram => LazyInitializer.EnsureInitialized(ref _probeGram, () => LinearProbe.AreaGram(this));

    public ReadOnlySpan<float> Descriptor(int superpixel) => Descriptors.AsSpan(superpixel * DescriptorLength, DescriptorLength);

    public ReadOnlySpan<float> ProjectedDescriptor(int superpixel) => Projected.AsSpan(superpixel * ProjectedLength, ProjectedLength);

    public int ColOf(Click click) => Math.Clamp((int)(click.X * WorkSize.Width), 0, WorkSize.Width - 1);
    public int RowOf(Click click) => Math.Clamp((int)(click.Y * WorkSize.Height), 0, WorkSize.Height - 1);

    /// <summary>The superpixel under a click (fractions of the frame).</summary>
    public int SuperpixelAt(Click click) => Labels[RowOf(click) * WorkSize.Width + ColOf(click)];

    /// <summary>Rough memory held, for the cache bound.</summary>
    public long Bytes => WorkBgr.Length + Labels.Length * 4L + Descriptors.Length * 4L + Projected.Length * 4L + Count * 64L + WorkBgr.Length / 3 * 16L;
}

/// <summary>Two adjacent superpixels (A &lt; B), the length of their shared boundary in pixels and the mean squared Lab difference across it.</summary>
public readonly record struct SuperpixelEdge(int A, int B, int Length, float Contrast);
