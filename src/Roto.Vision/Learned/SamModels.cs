namespace Roto.Vision.Learned;

/// <summary>Where the learned engines' networks are: SAM's image encoder and mask decoder, and a saliency network.</summary>
public sealed record SamModelFiles(string Encoder, string Decoder, string Saliency)
{
    /// <summary>The file names that <c>scripts/models.sh</c> unpacks into the models folder.</summary>
    public static SamModelFiles In(string dir) =>
        new(Path.Combine(dir, "sam-encoder.onnx"), Path.Combine(dir, "sam-decoder.onnx"), Path.Combine(dir, "saliency.onnx"));
}

/// <summary>
/// The loaded networks of the learned engines, shared by the click segmenter, the tracker and the subject extractor.
/// Thread-safe: ONNX Runtime sessions may run concurrently.
/// </summary>
public sealed class SamModels : IDisposable
{
    public SamEncoder Encoder { get; }
    public SamDecoder Decoder { get; }
    public SaliencyModel Saliency { get; }

    private SamModels(SamEncoder encoder, SamDecoder decoder, SaliencyModel saliency)
    {
        Encoder = encoder;
        Decoder = decoder;
        Saliency = saliency;
    }

    /// <summary>Opens the three networks; throws <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/>/<see cref="Microsoft.ML.OnnxRuntime.OnnxRuntimeException"/> naming the file that failed.</summary>
    /// <param name="threads">Intra-op threads of the encoder; 0 uses every core. The decoder and saliency network are small and use two.</param>
    /// <param name="int8Encoder">The encoder's linear layers in 8-bit integers (<see cref="Int8MatMul"/>).</param>
    /// <param name="fitEncoderInput">The encoder's input cut to the frame's shape (<see cref="TinyVitInputSize"/>).</param>
    public static SamModels Load(SamModelFiles files, int threads = 0, bool int8Encoder = true, bool fitEncoderInput = true)
    {
        foreach (var path in new[] { files.Encoder, files.Decoder, files.Saliency })
            if (!File.Exists(path)) throw new FileNotFoundException($"model file {path} not found", path);
        SamEncoder? encoder = null;
        SamDecoder? decoder = null;
        try
        {
            encoder = Open(files.Encoder, p => new SamEncoder(p, threads, int8Encoder, fitEncoderInput));
            decoder = Open(files.Decoder, p => new SamDecoder(p, Math.Min(2, Environment.ProcessorCount)));
            var saliency = Open(files.Saliency, p => new SaliencyModel(p, Math.Min(2, Environment.ProcessorCount)));
            return new SamModels(encoder, decoder, saliency);
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    private static T Open<T>(string path, Func<string, T> open)
    {
        try
        {
            return open(path);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            // ONNX Runtime's own message names neither the file nor the cause plainly for a truncated or foreign file.
            throw new InvalidDataException($"{path} could not be loaded as an ONNX model: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
        Saliency.Dispose();
    }
}
