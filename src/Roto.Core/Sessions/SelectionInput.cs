using Roto.Masks;

namespace Roto.Core.Sessions;

/// <summary>A point as the request gives it: fractions of the frame, label 1 include / 0 exclude.</summary>
public readonly record struct PointInput(double X, double Y, int Label);

/// <summary>The mask of one element on one frame, as RLE and decoded.</summary>
public sealed record ObjectMask(int ObjectId, string Counts, BinaryMask Mask);

/// <summary>What add/delete-selection answer: the session and every element's mask on the frame.</summary>
public sealed record FrameSelection(Data.SessionRecord Session, int FrameIndex, IReadOnlyList<ObjectMask> Masks, long OperationAt);
