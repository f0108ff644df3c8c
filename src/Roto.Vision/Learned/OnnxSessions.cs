using Microsoft.ML.OnnxRuntime;

namespace Roto.Vision.Learned;

/// <summary>How Roto opens a network: fully optimised, sequential, on a given number of threads.</summary>
internal static class OnnxSessions
{
    public static InferenceSession Open(string path, int threads)
    {
        using var options = Options(threads);
        return new InferenceSession(path, options);
    }

    public static InferenceSession Open(byte[] model, int threads)
    {
        using var options = Options(threads);
        return new InferenceSession(model, options);
    }

    /// <summary>
    /// Without ONNX Runtime's arena and memory patterns a network's activations go back to the system after each run
    /// instead of staying reserved for the next: the SAM encoder alone held 525 MB after a pass with them and 360 MB
    /// without (peak 414 MB), for about 5 % more time a pass. The server's peak with every network loaded must stay
    /// within 1.5 GiB.
    /// </summary>
    private static SessionOptions Options(int threads) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        EnableCpuMemArena = false,
        EnableMemoryPattern = false,
    };

    /// <summary>Throws unless the session has an input of this name and rank, so that a model of another signature is refused at load.</summary>
    public static void RequireInput(InferenceSession session, string name, int rank, string path)
    {
        if (!session.InputMetadata.TryGetValue(name, out var meta) || meta.Dimensions.Length != rank)
            throw new InvalidDataException($"{Path.GetFileName(path)} is not the expected model: it has no input '{name}' of rank {rank} (inputs: {string.Join(", ", session.InputMetadata.Keys)})");
    }
}
