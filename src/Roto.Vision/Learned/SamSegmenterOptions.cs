namespace Roto.Vision.Learned;

/// <summary>Settings of <see cref="SamClickSegmenter"/>; the defaults are the measured best (docs/benchmarks.md, Selection).</summary>
public sealed record SamSegmenterOptions
{
    /// <summary>Frames whose embedding is kept per process (about 4 MB each), least recently used out first.</summary>
    public int CachedFrames { get; init; } = 24;

    /// <summary>Weight of the decoder's own IoU estimate in the first click's choice among its candidates.</summary>
    public double PredictedIouWeight { get; init; } = 1;

    /// <summary>Weight of the stability score (how little a mask moves with its threshold).</summary>
    public double StabilityWeight { get; init; } = 1;

    /// <summary>Weight of the agreement (IoU) with the salient region under the click.</summary>
    public double SaliencyWeight { get; init; } = 2;

    /// <summary>
    /// Whether the first click's choice also weighs the decoder's own proposals for one click (a part, a larger part,
    /// the whole), which its export computes and drops (<see cref="SamDecoder.ExposesAllMasks"/>).
    /// </summary>
    public bool AllMasks { get; init; } = true;

    /// <summary>
    /// Weight of the agreement (IoU) with the region under the first click that moves of its own towards a later frame
    /// (<see cref="SegmentRequest.Later"/>); that region's box also prompts a candidate. 0 leaves motion out.
    /// </summary>
    public double MotionWeight { get; init; } = 2;

    /// <summary>
    /// The share of the chosen candidate that must move with the element; below it the first click's mask is decoded
    /// again with the box of the candidate's moving part only. 0 leaves the chosen candidate as it is.
    /// </summary>
    public double StillShare { get; init; } = 0.8;

    /// <summary>How much more of the recut mask than of the chosen candidate must move for the recut to be taken.</summary>
    public double CutShareGain { get; init; } = 0.05;

    /// <summary>The least share of the frame that the salient or moving region under the first click must cover to be used as a cue.</summary>
    public double MinCueRegion { get; init; } = 0.002;

    /// <summary>Whether the salient region under the first click, refined by the decoder with its box, competes as a candidate.</summary>
    public bool SalientCandidate { get; init; } = true;

    /// <summary>
    /// Corrections: "guarded" (the decoder's refined mask when it changes the selection mostly near the click, else
    /// "monotone"), "monotone" (an include click only adds the region it lands in, an exclude click only takes away)
    /// or "raw" (the decoder's mask for all clicks as it is).
    /// </summary>
    public string Corrections { get; init; } = "guarded";

    /// <summary>With "guarded" corrections: the share of the selection that the refined mask may drop or add beyond the click's reach and still be taken whole.</summary>
    public double FarChange { get; init; } = 0.3;

    /// <summary>How far a correction may reach from its click, as a share of the selection's bounding-box diagonal; 0 = no limit.</summary>
    public double Reach { get; init; } = 0.5;

    /// <summary>How far a correction may reach, as a multiple of its click's distance to the selection's edge; 0 = no such limit.</summary>
    public double GapReach { get; init; } = 3;

    /// <summary>On a prior (a tracked mask being corrected): the share of its pixels that the first click's own mask must keep to replace it.</summary>
    public double PriorKept { get; init; } = 0.9;

    /// <summary>On a prior: how many times the prior's area the first click's own mask may cover and still replace it.</summary>
    public double PriorGrowth { get; init; } = 2;

    /// <summary>
    /// On a prior: whether a first include click whose own mask lies wholly apart from the prior, and is no smaller,
    /// replaces it (the track had lost the element there) instead of mending it.
    /// </summary>
    public bool LostPriorDropped { get; init; } = true;

    /// <summary>The longest side at which masks are decoded; larger frames are decoded smaller and scaled up.</summary>
    public int DecodeSide { get; init; } = 1024;

    /// <summary>Whether a correction also prompts the box of the selection so far (and its include clicks), which holds the decoder to the whole element.</summary>
    public bool CorrectionBox { get; init; } = true;

    /// <summary>How much the correction box is widened beyond the selection, as a share of its size.</summary>
    public double CorrectionBoxPadding { get; init; } = 0.05;

    /// <summary>
    /// Radius of the guided filter that moves the mask's outline onto the frame's own edges, as a share of the frame's
    /// longest side (the decoder draws outlines on 256 cells across that side: about 3 px a cell on a 854-px frame);
    /// 0 leaves the outline as decoded.
    /// </summary>
    public double EdgeRadius { get; init; } = 0.005;

    /// <summary>The guided filter's regularisation, on 0–255 intensities: edges of less contrast than about its square root are smoothed over.</summary>
    public double EdgeEps { get; init; } = 100;

    public override string ToString() =>
        $"correction box {CorrectionBox} (padding {CorrectionBoxPadding}), iou {PredictedIouWeight}, stability {StabilityWeight}, saliency {SaliencyWeight}, salient candidate {SalientCandidate}, all masks {AllMasks}, motion {MotionWeight}, still share {StillShare} (gain {CutShareGain}), min cue region {MinCueRegion}, corrections {Corrections} (far change {FarChange}), reach {Reach}, gap reach {GapReach}, prior kept {PriorKept}, prior growth {PriorGrowth}, lost prior dropped {LostPriorDropped}, edge radius {EdgeRadius} (eps {EdgeEps})";
}
