using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace Roto.Vision.Learned;

/// <summary>A frame as SAM's image encoder sees it: a 256×64×64 embedding and the frame size it came from.</summary>
public sealed record SamEmbedding(float[] Data, Size FrameSize)
{
    /// <summary>Pixels of the frame to the encoder's 1024-pixel space (the longest side scaled to 1024).</summary>
    public float Scale => SamEncoder.InputSide / (float)Math.Max(FrameSize.Width, FrameSize.Height);
}

/// <summary>
/// SAM's image encoder (any export with an input <c>input</c> [B,3,1024,1024] giving [B,256,64,64]: MobileSAM's TinyViT,
/// SAM ViT-B/H, EdgeSAM). The frame is resized so its longest side is 1024, normalised with SAM's pixel mean and
/// deviation on 0–255 RGB, and zero-padded to the input: the square, or for the TinyViT an input cut to the frame's
/// shape (<see cref="InputSize"/>). The expensive step of the SAM engine: one pass per frame, 0.4–0.8 s on two cores
/// for the TinyViT. Thread-safe.
/// </summary>
public sealed class SamEncoder : IDisposable
{
    public const int InputSide = 1024;
    /// <summary>The side of the embedding's square: one cell per 16 input pixels.</summary>
    public const int EmbeddingSide = 64;
    public const int EmbeddingChannels = 256;
    private static readonly float[] Mean = [123.675f, 116.28f, 103.53f];
    private static readonly float[] Deviation = [58.395f, 57.12f, 57.375f];

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly int _threads;
    /// <summary>The model the sessions for smaller inputs are rewritten from; null where the export has no such rewrite.</summary>
    private readonly byte[]? _model;
    private readonly Dictionary<(int Height, int Width), InferenceSession?> _sized = [];
    private readonly Lock _sizedLock = new();
    private readonly Lazy<float[]> _padding;

    /// <param name="int8">Run the linear layers in 8-bit integers (<see cref="Int8MatMul"/>): on davis16-dev the same
    /// selection figures to the third decimal, the pass about a sixth faster (703 → 588 ms).</param>
    /// <param name="fitInput">Encode a frame on an input cut to the frame's shape where the export allows it
    /// (<see cref="TinyVitInputSize"/>) instead of the padded square.</param>
    public SamEncoder(string path, int threads = 0, bool int8 = true, bool fitInput = true)
    {
        var quantized = int8 ? Int8MatMul.TryQuantize(path) : null;
        _session = quantized != null ? OnnxSessions.Open(quantized, threads) : OnnxSessions.Open(path, threads);
        Int8 = quantized != null;
        _threads = threads;
        // Exports name the image input differently ("input", "image", "x"); there is only one.
        _inputName = _session.InputMetadata.Keys.First();
        OnnxSessions.RequireInput(_session, _inputName, 4, path);
        _outputName = _session.OutputMetadata.Keys.First();
        if (fitInput && new FileInfo(path).Length < int.MaxValue)
        {
            var model = quantized ?? File.ReadAllBytes(path);
            // Only an export the rewrite recognises is kept for it (a test size of the smallest step).
            if (TinyVitInputSize.TryResize(model, TinyVitInputSize.Step * 4, InputSide) != null) _model = model;
        }
        _padding = new Lazy<float[]>(EncodePadding);
    }

    /// <summary>Whether the linear layers run in 8-bit integers (asked for, and the export could be rewritten).</summary>
    public bool Int8 { get; }

    /// <summary>Whether frames are encoded on inputs cut to their shape.</summary>
    public bool FitsInput => _model != null;

    /// <summary>
    /// The input a frame of this size is encoded on: its longest side scaled to 1024, the other grown by
    /// <see cref="FitMargin"/> and rounded up to a multiple of <see cref="FitStep"/> where the export allows it, else
    /// the 1024 square.
    /// </summary>
    /// <param name="flush">Cut flush with the picture (no <see cref="FitMargin"/>).</param>
    public Size InputSize(Size frame, bool flush = false)
    {
        if (_model == null) return new Size(InputSide, InputSide);
        var scaled = Scaled(frame);
        var margin = flush ? 0 : FitMargin;
        int Fit(int side) => Math.Min(InputSide, (side + margin + FitStep - 1) / FitStep * FitStep);
        return new Size(Fit(scaled.Width), Fit(scaled.Height));
    }

    /// <summary>
    /// Inputs are cut in steps of 64 pixels, so that the common shapes share a few sessions (16:9 gives 704, 4:3 896,
    /// 2.39:1 576); each is a network of its own in memory, and at most <see cref="MostSizes"/> are opened, after
    /// which another shape is encoded on the square.
    /// </summary>
    public const int FitStep = 64;

    /// <summary>
    /// Padding kept beyond the picture for a click: in the square the padding's activations reach about 128 input
    /// pixels into the picture's embedding. Cut flush (1024×576 for 16:9, half the square's time) the picture's last
    /// rows of cells drift from the square's (cosine 0.87), and first clicks whose candidates score a few hundredths
    /// apart went the other way on real frames (a removal composite's dog: IoU 0.69 → 0.34); with 128 they agree
    /// (cosine 0.99) at about 0.63 of the square's time. A track's corrections are cut flush: each is one of many,
    /// redrawn from the tracked mask, and the cheaper pass buys more of them in a preview's time.
    /// </summary>
    public const int FitMargin = 128;
    private const int MostSizes = 6;

    private static Size Scaled(Size frame)
    {
        var scale = InputSide / (double)Math.Max(frame.Width, frame.Height);
        return new Size(Math.Max(1, (int)Math.Round(frame.Width * scale)), Math.Max(1, (int)Math.Round(frame.Height * scale)));
    }

    /// <param name="bgr">A CV_8UC3 frame; not modified.</param>
    /// <param name="flush">Encode on an input cut flush with the picture (a track's corrections), not with <see cref="FitMargin"/>.</param>
    public SamEmbedding Encode(Mat bgr, bool flush = false)
    {
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException("frame must be CV_8UC3 (BGR)", nameof(bgr));
        var inputSize = InputSize(bgr.Size(), flush);
        var session = inputSize is { Width: InputSide, Height: InputSide } ? _session : SizedSession(inputSize);
        if (session == null)
        {
            session = _session;
            inputSize = new Size(InputSide, InputSide);
        }
        var input = Normalised(bgr, inputSize);
        var tensor = new DenseTensor<float>(input, [1, 3, inputSize.Height, inputSize.Width]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(_inputName, tensor)], [_outputName]);
        var output = results[0].AsTensor<float>();
        var data = output is DenseTensor<float> dense ? dense.Buffer.ToArray() : [.. output];
        if (session != _session) data = Padded(data, output.Dimensions[2], output.Dimensions[3]);
        return new SamEmbedding(data, bgr.Size());
    }

    /// <summary>The frame resized into the input's top-left corner, normalised, as RGB planes; the rest stays 0 (the mean after normalisation).</summary>
    private static float[] Normalised(Mat bgr, Size inputSize)
    {
        var size = Scaled(bgr.Size());
        var scale = size.Width / (double)bgr.Width;
        var plane = inputSize.Width * inputSize.Height;
        var input = new float[3 * plane];
        using var resized = new Mat();
        using var asFloat = new Mat();
        Cv2.Resize(bgr, resized, size, 0, 0, scale < 1 ? InterpolationFlags.Area : InterpolationFlags.Linear);
        resized.ConvertTo(asFloat, MatType.CV_32FC3);
        var channels = Cv2.Split(asFloat);
        try
        {
            var row = new float[size.Width];
            for (var c = 0; c < 3; c++)
            {
                // BGR planes to RGB order.
                var target = 2 - c;
                using var channel = channels[c].IsContinuous() ? channels[c] : channels[c].Clone();
                for (var y = 0; y < size.Height; y++)
                {
                    Marshal.Copy(channel.Data + y * size.Width * sizeof(float), row, 0, size.Width);
                    var offset = target * plane + y * inputSize.Width;
                    for (var x = 0; x < row.Length; x++) input[offset + x] = (row[x] - Mean[target]) / Deviation[target];
                }
            }
        }
        finally
        {
            foreach (var ch in channels) ch.Dispose();
        }
        return input;
    }

    /// <summary>
    /// The embedding of a cut input placed in the 64×64 square the decoder reads, the cells beyond it taken from the
    /// square encoder's embedding of an empty frame: what the square encoder gives the padding far from a picture.
    /// </summary>
    private float[] Padded(float[] data, int rows, int cols)
    {
        var full = (float[])_padding.Value.Clone();
        for (var c = 0; c < EmbeddingChannels; c++)
            for (var y = 0; y < rows; y++)
                Array.Copy(data, (c * rows + y) * cols, full, (c * EmbeddingSide + y) * EmbeddingSide, cols);
        return full;
    }

    private float[] EncodePadding()
    {
        var tensor = new DenseTensor<float>(new float[3 * InputSide * InputSide], [1, 3, InputSide, InputSide]);
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_inputName, tensor)], [_outputName]);
        return [.. results[0].AsTensor<float>()];
    }

    /// <summary>The session for an input size, rewritten and opened on first use; null where the rewrite failed.</summary>
    private InferenceSession? SizedSession(Size inputSize)
    {
        lock (_sizedLock)
        {
            var key = (inputSize.Height, inputSize.Width);
            if (_sized.TryGetValue(key, out var session)) return session;
            if (_sized.Count(s => s.Value != null) >= MostSizes) return null;
            var model = TinyVitInputSize.TryResize(_model!, inputSize.Height, inputSize.Width);
            session = model == null ? null : OnnxSessions.Open(model, _threads);
            _sized[key] = session;
            return session;
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        lock (_sizedLock)
            foreach (var session in _sized.Values) session?.Dispose();
    }
}
