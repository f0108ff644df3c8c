using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace Roto.Vision.Learned;

/// <summary>A prompt point in frame pixels. Label: 1 include, 0 exclude, 2/3 the top-left/bottom-right corner of a box.</summary>
public readonly record struct PromptPoint(float X, float Y, int Label);

/// <summary>One mask the decoder proposes: logits at the requested size, SAM's 256×256 logits, and its own IoU estimate.</summary>
public sealed class SamCandidate(Mat logits, float[] lowRes, float predictedIou) : IDisposable
{
    /// <summary>CV_32FC1 logits at the requested output size; the element is where they are above 0.</summary>
    public Mat Logits { get; } = logits;
    /// <summary>256×256 logits, the decoder's <c>mask_input</c> for a refinement of this mask.</summary>
    public float[] LowRes { get; } = lowRes;
    public float PredictedIou { get; } = predictedIou;

    /// <summary>The mask: CV_8UC1, 255 where the logits are above <paramref name="threshold"/>; the caller disposes it.</summary>
    public Mat Binary(float threshold = 0)
    {
        var mask = new Mat();
        Cv2.Threshold(Logits, mask, threshold, 255, ThresholdTypes.Binary);
        mask.ConvertTo(mask, MatType.CV_8UC1);
        return mask;
    }

    /// <summary>
    /// How little the mask moves when its threshold moves by ±<paramref name="offset"/> logits: the IoU of the two
    /// masks. SAM's automatic mask generator keeps masks by this; a part whose edge the network is unsure of scores low.
    /// </summary>
    public double Stability(float offset = 1f)
    {
        using var high = new Mat();
        using var low = new Mat();
        Cv2.Threshold(Logits, high, offset, 1, ThresholdTypes.Binary);
        Cv2.Threshold(Logits, low, -offset, 1, ThresholdTypes.Binary);
        var union = Cv2.CountNonZero(low);
        return union == 0 ? 0 : Cv2.CountNonZero(high) / (double)union;
    }

    public void Dispose() => Logits.Dispose();
}

/// <summary>
/// SAM's prompt encoder and mask decoder as the official ONNX export has them (inputs image_embeddings, point_coords,
/// point_labels, mask_input, has_mask_input, orig_im_size; outputs masks, iou_predictions, low_res_masks). A call
/// costs tens of milliseconds on a CPU, so every click runs it. Thread-safe.
/// </summary>
public sealed class SamDecoder : IDisposable
{
    public const int LowResSide = 256;

    /// <summary>
    /// The tensors of SAM's official export that hold all four of its masks (256×256 logits: the single-mask token,
    /// then the three multimask tokens) and their IoU estimates, before the export keeps one of them. Exports made by
    /// another exporter may name them differently; those serve the one mask they return.
    /// </summary>
    private const string AllMasksTensor = "/Reshape_9_output_0", AllScoresTensor = "/iou_prediction_head/layers.2/Gemm_output_0";

    /// <summary>The side the export upsamples the low-resolution logits to before it crops the frame's part (SAM's input side).</summary>
    private const int InputSide = 1024;

    private readonly InferenceSession _session;

    public SamDecoder(string path, int threads = 0)
    {
        var model = File.ReadAllBytes(path);
        try
        {
            _session = OnnxSessions.Open(Features.OnnxGraphCut.WithOutputs(model, [AllMasksTensor, AllScoresTensor]), threads);
            ExposesAllMasks = true;
        }
        catch (InvalidDataException)
        {
            _session = OnnxSessions.Open(model, threads);
        }
        OnnxSessions.RequireInput(_session, "image_embeddings", 4, path);
        OnnxSessions.RequireInput(_session, "point_coords", 3, path);
        OnnxSessions.RequireInput(_session, "mask_input", 4, path);
    }

    /// <summary>Whether <see cref="Decode"/> can return all four of the decoder's masks (<c>allMasks</c>).</summary>
    public bool ExposesAllMasks { get; }

    /// <param name="embedding">The frame's embedding.</param>
    /// <param name="points">Points in frame pixels; without a box, SAM's padding point is added.</param>
    /// <param name="maskInput">256×256 logits of an earlier mask to refine, or null.</param>
    /// <param name="outputSize">The size of the returned logits, of the frame's aspect (the frame size or a smaller working size).</param>
    /// <param name="allMasks">
    /// Also return the masks the export computes and drops (<see cref="ExposesAllMasks"/>): for one click SAM proposes a
    /// part, a larger part and the whole, and keeps the one it rates best, which is often a part.
    /// </param>
    /// <returns>The mask the export returns first, then (with <paramref name="allMasks"/>) its four masks in token order.</returns>
    public List<SamCandidate> Decode(SamEmbedding embedding, IReadOnlyList<PromptPoint> points, float[]? maskInput, Size outputSize, bool allMasks = false)
    {
        var hasBox = points.Any(p => p.Label is 2 or 3);
        var count = points.Count + (hasBox ? 0 : 1);
        var coords = new float[count * 2];
        var labels = new float[count];
        for (var i = 0; i < points.Count; i++)
        {
            coords[2 * i] = points[i].X * embedding.Scale;
            coords[2 * i + 1] = points[i].Y * embedding.Scale;
            labels[i] = points[i].Label;
        }
        if (!hasBox) labels[count - 1] = -1;

        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("image_embeddings", new DenseTensor<float>(embedding.Data, [1, 256, 64, 64])),
            NamedOnnxValue.CreateFromTensor("point_coords", new DenseTensor<float>(coords, [1, count, 2])),
            NamedOnnxValue.CreateFromTensor("point_labels", new DenseTensor<float>(labels, [1, count])),
            NamedOnnxValue.CreateFromTensor("mask_input", new DenseTensor<float>(maskInput ?? new float[LowResSide * LowResSide], [1, 1, LowResSide, LowResSide])),
            NamedOnnxValue.CreateFromTensor("has_mask_input", new DenseTensor<float>(new[] { maskInput == null ? 0f : 1f }, [1])),
            NamedOnnxValue.CreateFromTensor("orig_im_size", new DenseTensor<float>(new float[] { outputSize.Height, outputSize.Width }, [2])),
        };
        using var results = _session.Run(inputs);
        var masks = Dense(results.First(r => r.Name == "masks").AsTensor<float>());
        var scores = Dense(results.First(r => r.Name == "iou_predictions").AsTensor<float>());
        var lowRes = Dense(results.First(r => r.Name == "low_res_masks").AsTensor<float>());

        var plane = outputSize.Width * outputSize.Height;
        var n = masks.Length / plane;
        var candidates = new List<SamCandidate>(n);
        for (var i = 0; i < n; i++)
        {
            var logits = new Mat(outputSize.Height, outputSize.Width, MatType.CV_32FC1);
            Marshal.Copy(masks, i * plane, logits.Data, plane);
            var low = lowRes.AsSpan(i * LowResSide * LowResSide, LowResSide * LowResSide).ToArray();
            candidates.Add(new SamCandidate(logits, low, i < scores.Length ? scores[i] : 0));
        }
        if (allMasks && ExposesAllMasks)
        {
            var all = Dense(results.First(r => r.Name == AllMasksTensor).AsTensor<float>());
            var allScores = Dense(results.First(r => r.Name == AllScoresTensor).AsTensor<float>());
            const int lowPlane = LowResSide * LowResSide;
            for (var i = 0; i < all.Length / lowPlane; i++)
            {
                var low = all.AsSpan(i * lowPlane, lowPlane).ToArray();
                candidates.Add(new SamCandidate(Upscale(low, outputSize), low, i < allScores.Length ? allScores[i] : 0));
            }
        }
        return candidates;
    }

    /// <summary>
    /// 256×256 logits to the output size as the export does it: up to SAM's 1024 input square, the frame's part of it
    /// cut out (the frame sits top-left, its longest side 1024), and that resized to the output size, bilinear each time.
    /// </summary>
    private static unsafe Mat Upscale(float[] low, Size outputSize)
    {
        var scale = InputSide / (double)Math.Max(outputSize.Width, outputSize.Height);
        var part = new Rect(0, 0, Math.Min(InputSide, (int)Math.Floor(outputSize.Width * scale + 0.5)), Math.Min(InputSide, (int)Math.Floor(outputSize.Height * scale + 0.5)));
        fixed (float* data = low)
        {
            using var grid = Mat.FromPixelData(LowResSide, LowResSide, MatType.CV_32FC1, (IntPtr)data);
            using var square = new Mat();
            Cv2.Resize(grid, square, new Size(InputSide, InputSide), 0, 0, InterpolationFlags.Linear);
            using var cropped = new Mat(square, part);
            var logits = new Mat();
            Cv2.Resize(cropped, logits, outputSize, 0, 0, InterpolationFlags.Linear);
            return logits;
        }
    }

    /// <summary>
    /// A mask or probability (CV_32FC1 in 0…1, or CV_8UC1 in 0…255) of the frame's aspect as SAM's 256×256
    /// <c>mask_input</c>: the frame occupies the grid's top-left part, as it does the encoder's padded square, and the
    /// logits are a steep ramp around one half, as the decoder's own are.
    /// </summary>
    public static float[] MaskPrompt(Mat mask)
    {
        const int side = LowResSide;
        var scale = side / (double)Math.Max(mask.Cols, mask.Rows);
        var size = new Size(Math.Max(1, (int)Math.Round(mask.Cols * scale)), Math.Max(1, (int)Math.Round(mask.Rows * scale)));
        using var probability = new Mat();
        mask.ConvertTo(probability, MatType.CV_32FC1, mask.Type() == MatType.CV_8UC1 ? 1.0 / 255 : 1.0);
        using var small = new Mat();
        Cv2.Resize(probability, small, size, 0, 0, InterpolationFlags.Area);
        var prompt = new float[side * side];
        Array.Fill(prompt, -20f);
        var row = new float[size.Width];
        for (var y = 0; y < size.Height; y++)
        {
            Marshal.Copy(small.Data + y * size.Width * sizeof(float), row, 0, size.Width);
            for (var x = 0; x < size.Width; x++) prompt[y * side + x] = (row[x] - 0.5f) * 40f;
        }
        return prompt;
    }

    private static float[] Dense(Tensor<float> tensor) => tensor is DenseTensor<float> dense ? dense.Buffer.ToArray() : [.. tensor];

    public void Dispose() => _session.Dispose();
}
