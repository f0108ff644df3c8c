using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Roto.Vision.Learned;

namespace Roto.Core.Engines;

/// <summary>
/// Which engines this process serves: the learned ones (SAM for clicks and tracking corrections, saliency for
/// reference subjects) when their networks load from the models folder, otherwise the classical ones. Decided once,
/// at start; a missing, truncated or foreign model file is a log line naming it, never a failed start.
/// </summary>
public sealed class EngineCatalog : IDisposable
{
    public EngineCatalog(IOptions<RotoOptions> options, ILogger<EngineCatalog> log)
    {
        var o = options.Value.Models;
        _taskMatchingMaxFrames = options.Value.Tracking.FeatureMatching ? int.MaxValue : options.Value.Tracking.TaskMatchingMaxFrames;
        _previewMatchingMaxFrames = options.Value.Tracking.FeatureMatching ? int.MaxValue : options.Value.Tracking.PreviewMatchingMaxFrames;
        ModelsDir = Vision.Learned.ModelsDir.Resolve(o.Dir);
        var defaults = SamModelFiles.In(ModelsDir);
        var files = new SamModelFiles(o.Encoder ?? defaults.Encoder, o.Decoder ?? defaults.Decoder, o.Saliency ?? defaults.Saliency);
        if (string.Equals(o.Engine, "classical", StringComparison.OrdinalIgnoreCase))
        {
            Reason = "Roto:Models:Engine is classical";
        }
        else
        {
            try
            {
                Models = SamModels.Load(files, int8Encoder: o.Int8Encoder, fitEncoderInput: o.FitEncoderInput);
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                Reason = e.Message;
            }
        }
        if (Models != null)
            log.LogInformation("Engines: learned (SAM click segmenter, SAM-corrected tracking, saliency subjects) from {Encoder} ({EncoderPrecision}), {Decoder}, {Saliency}; a preview's track: {Tracker}; a task's track: {TaskTracker}",
                files.Encoder, Models.Encoder.Int8 ? "linear layers in int8" : "as exported", files.Decoder, files.Saliency, PreviewTracker, TaskTracker);
        else
            log.LogWarning("Engines: classical (feature-graph click segmenter, flow tracking, GrabCut subjects): {Reason}. Run scripts/models.sh or set Roto:Models:Dir to serve the learned engines", Reason);
    }

    /// <summary>The learned engines' networks, or null when the classical engines are served.</summary>
    public SamModels? Models { get; }

    /// <summary>Why the classical engines are served, or null.</summary>
    public string? Reason { get; }

    public string ModelsDir { get; }

    private readonly int _taskMatchingMaxFrames;
    private readonly int _previewMatchingMaxFrames;

    /// <summary>How an edit task tracks with the learned engines: feature matching on clips up to the configured length.</summary>
    private string TaskTracker => Describe(_taskMatchingMaxFrames, "matching+sam");

    /// <summary>How a preview tracks with the learned engines: matched on the corrected frames of clips up to the configured length.</summary>
    private string PreviewTracker => Describe(_previewMatchingMaxFrames, _previewMatchingMaxFrames == int.MaxValue ? "matching+sam" : "matching on corrected frames+sam");

    private static string Describe(int maxFrames, string matched) => maxFrames switch
    {
        int.MaxValue => matched,
        <= 0 => "flow+sam",
        var n => $"{matched} up to {n} frames, flow+sam beyond",
    };

    /// <summary>What /health reports.</summary>
    public EngineReport Report => Models != null
        ? new EngineReport("learned", "sam", PreviewTracker, TaskTracker, "saliency", null)
        : new EngineReport("classical", "feature-graph", "flow", "flow", "grabcut", Reason);

    public void Dispose() => Models?.Dispose();
}

/// <summary>The engines a process serves, by job.</summary>
/// <param name="Tracker">The preview's tracking (it answers in its request).</param>
/// <param name="TaskTracker">An edit task's full-quality tracking.</param>
public sealed record EngineReport(string Kind, string Segmenter, string Tracker, string TaskTracker, string Subjects, string? Reason);
