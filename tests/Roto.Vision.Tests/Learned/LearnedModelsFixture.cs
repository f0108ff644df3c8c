using Roto.Vision.Learned;

namespace Roto.Vision.Tests.Learned;

/// <summary>
/// The real networks from the models folder that ./test.sh fills (scripts/models.sh). A missing folder fails these
/// tests rather than skipping them: the learned engines are what Roto serves.
/// </summary>
public sealed class LearnedModelsFixture : IDisposable
{
    public SamModels Models { get; } = SamModels.Load(SamModelFiles.In(ModelsDir.Resolve(null)));

    public void Dispose() => Models.Dispose();
}
