using Microsoft.ML.OnnxRuntime;

namespace Roto.Vision.Learned;

/// <summary>How Roto opens a network: fully optimised, sequential, on a given number of threads.</summary>
internal static class OnnxSessions
{
    public static InferenceSession Open(string path, int threads)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        return new InferenceSession(path, options);
    }

    /// <summary>Throws unless the session has an input of this name and rank, so that a model of another signature is refused at load.</summary>
    public static void RequireInput(InferenceSession session, string name, int rank, string path)
    {
        if (!session.InputMetadata.TryGetValue(name, out var meta) || meta.Dimensions.Length != rank)
            throw new InvalidDataException($"{Path.GetFileName(path)} is not the expected model: it has no input '{name}' of rank {rank} (inputs: {string.Join(", ", session.InputMetadata.Keys)})");
    }
}
