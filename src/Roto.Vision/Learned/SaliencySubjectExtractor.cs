using OpenCvSharp;
using Roto.Vision.Compositing;

namespace Roto.Vision.Learned;

/// <summary>
/// A reference image's subject for swap and addition: its own alpha when it has a real one; otherwise the salient
/// object (saliency network), its outline redrawn by SAM's decoder prompted with the salient region's box, its most
/// interior point and the region itself. A plain photo then gives the subject, not the photo with its background.
/// </summary>
public sealed class SaliencySubjectExtractor(SamModels models) : ISubjectExtractor
{
    /// <summary>The least share of the image the salient region must cover to count as a subject.</summary>
    private const double MinShare = 0.01;

    public Subject Extract(Mat image)
    {
        if (SubjectExtractor.OwnAlpha(image) is { } own) return own;
        using var bgr = SubjectExtractor.ToBgr(image);
        using var mask = SubjectMask(bgr);
        using var soft = new Mat();
        // A pixel or two of feathering, so the pasted edge does not alias.
        Cv2.GaussianBlur(mask, soft, new Size(3, 3), 0);
        using var result = new Mat();
        var parts = bgr.Split();
        try
        {
            Cv2.Merge([parts[0], parts[1], parts[2], soft], result);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
        return new Subject(SubjectExtractor.CropToAlpha(result));
    }

    /// <summary>CV_8UC1 0/255 at the image's size: the subject, or the whole image when nothing stands out.</summary>
    public Mat SubjectMask(Mat bgr)
    {
        using var saliency = models.Saliency.Predict(bgr, bgr.Size());
        using var salient = new Mat();
        Cv2.Threshold(saliency, salient, 0.5, 255, ThresholdTypes.Binary);
        salient.ConvertTo(salient, MatType.CV_8UC1);
        using var largest = Largest(salient);
        if (Cv2.CountNonZero(largest) < MinShare * bgr.Width * bgr.Height)
            return new Mat(bgr.Size(), MatType.CV_8UC1, Scalar.All(255));

        var embedding = models.Encoder.Encode(bgr);
        var box = Cv2.BoundingRect(largest);
        using var distance = new Mat();
        Cv2.DistanceTransform(largest, distance, DistanceTypes.L2, DistanceTransformMasks.Mask5);
        Cv2.MinMaxLoc(distance, out _, out _, out _, out Point inner);
        var points = new List<PromptPoint> { new(inner.X + 0.5f, inner.Y + 0.5f, 1), new(box.Left, box.Top, 2), new(box.Right, box.Bottom, 3) };
        var candidates = models.Decoder.Decode(embedding, points, null, bgr.Size());
        try
        {
            var mask = candidates[0].Binary();
            // The decoder redraws edges; where it loses the subject the saliency region stands.
            if (MaskMats.Iou(mask, largest) >= 0.5) return mask;
            mask.Dispose();
            return largest.Clone();
        }
        finally
        {
            foreach (var c in candidates) c.Dispose();
        }
    }

    /// <summary>The largest connected region of a 0/255 mask.</summary>
    private static Mat Largest(Mat binary)
    {
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(binary, labels, stats, centroids, PixelConnectivity.Connectivity8);
        var result = new Mat(binary.Size(), MatType.CV_8UC1, Scalar.All(0));
        if (count <= 1) return result;
        var best = 1;
        for (var i = 2; i < count; i++)
            if (stats.At<int>(i, (int)ConnectedComponentsTypes.Area) > stats.At<int>(best, (int)ConnectedComponentsTypes.Area)) best = i;
        Cv2.Compare(labels, Scalar.All(best), result, CmpTypes.EQ);
        return result;
    }

}
