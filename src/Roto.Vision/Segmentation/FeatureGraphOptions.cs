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
    /// <summary>
    /// The colour weight of the cut of a frame's first click, which learns the element from one superpixel. 0.2 lifts
    /// IoU@1 over 49 davis16-dev frames from 0.569 to 0.601 but leaves frame 0 as it was and makes tracking's
    /// `clicks3` worse (0.480 → 0.439), so by default the first click weighs colour as later clicks do.
    /// </summary>
    public float FirstClickColourWeight { get; init; } = 0.6f;
    /// <summary>Which ResNet stages describe a superpixel.</summary>
    public int[] FeatureStrides { get; init; } = [8, 16, 32];
    /// <summary>Weight of the smoothness term against the appearance term in the graph cut.</summary>
    public double Smoothness { get; init; } = 0.1;
    /// <summary>Appearance-model re-estimations (GrabCut-style) per request.</summary>
    public int Iterations { get; init; } = 3;
    /// <summary>Share of the linear probe (fitted on the previous cut) in the appearance term after the first cut.</summary>
    public double ProbeWeight { get; init; } = 0.8;
    /// <summary>Ridge regularisation of the linear probe, relative to the mean diagonal of the Gram matrix.</summary>
    public double Ridge { get; init; } = 0.1;
    /// <summary>Random projections of the descriptor that the linear probe reads (its cost grows with the square).</summary>
    public int ProbeDimensions { get; init; } = 256;
    /// <summary>Which labeller cuts the superpixels: "replay" (graph cuts replayed so that corrections are monotone), "graphcut" or "geodesic".</summary>
    public string Labeller { get; init; } = "replay";
    /// <summary>Geodesic distance at which the frame's edge starts, in descriptor-distance units.</summary>
    public double BorderOffset { get; init; } = 0.5;
    /// <summary>Exponent on the descriptor difference of adjacent superpixels in the geodesic step cost.</summary>
    public double GeodesicPower { get; init; } = 1.0;
    /// <summary>Constant part of the geodesic step cost.</summary>
    public double GeodesicStep { get; init; } = 0.02;
    /// <summary>Whether what an include click adds is also limited to the superpixels geodesically nearer to it than to the background.</summary>
    public bool LimitGeodesic { get; init; } = true;
    /// <summary>How far what an include click adds may reach from it, as a share of the selection's extent; 0 = no limit.</summary>
    public double Reach { get; init; } = 0.5;
    /// <summary>How far what a later click adds or takes away may reach from it, as a multiple of its distance to the selection's edge (pixel level); 0 = no such limit.</summary>
    public double GapReach { get; init; } = 3;
    /// <summary>Width in working pixels of the band around the superpixel outline where GrabCut may move the edge; 0 uses the guided filter only.</summary>
    public int GrabCutBand { get; init; } = 12;
    /// <summary>GrabCut iterations of the edge refinement after a later click on a frame.</summary>
    public int GrabCutIterations { get; init; } = 1;
    /// <summary>GrabCut iterations of the edge refinement of a frame's first click.</summary>
    public int FirstClickGrabCutIterations { get; init; } = 2;
    /// <summary>Frames whose analysis is kept for later clicks.</summary>
    public int CachedFrames { get; init; } = 8;
}
