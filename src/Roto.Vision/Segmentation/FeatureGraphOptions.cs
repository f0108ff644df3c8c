namespace Roto.Vision.Segmentation;

/// <summary>The few knobs of <see cref="FeatureGraphSegmenter"/>; the defaults are the tuned ones.</summary>
public sealed record FeatureGraphOptions
{
    /// <summary>Width of the working image (superpixels, graph, refinement); frames are never enlarged.</summary>
    public int WorkingWidth { get; init; } = 480;
    /// <summary>Pixels of the network input (about 512×288 for 16:9).</summary>
    public int FeaturePixels { get; init; } = 512 * 288;
    /// <summary>SLIC region size in working pixels.</summary>
    public int SuperpixelSize { get; init; } = 10;
    /// <summary>Weight of the Lab colour part of a superpixel descriptor relative to each unit-length feature part.</summary>
    public float ColourWeight { get; init; } = 0.6f;
    /// <summary>Which ResNet stages describe a superpixel.</summary>
    public int[] FeatureStrides { get; init; } = [16, 32];
    /// <summary>Weight of the smoothness term against the appearance term in the graph cut.</summary>
    public double Smoothness { get; init; } = 0.3;
    /// <summary>Appearance-model re-estimations (GrabCut-style) per request.</summary>
    public int Iterations { get; init; } = 3;
    /// <summary>Share of the linear probe (fitted on the previous cut) in the appearance term after the first cut.</summary>
    public double ProbeWeight { get; init; } = 0.5;
    /// <summary>Ridge regularisation of the linear probe, relative to the mean diagonal of the Gram matrix.</summary>
    public double Ridge { get; init; } = 0.1;
    /// <summary>Random projections of the descriptor that the linear probe reads (its cost grows with the square).</summary>
    public int ProbeDimensions { get; init; } = 256;
    /// <summary>Frames whose analysis is kept for later clicks.</summary>
    public int CachedFrames { get; init; } = 8;
}
