using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Roto.Vision.Features;

namespace Roto.Vision.Tests.Features;

/// <summary>The hand-written protobuf rewrite that cuts ResNet-18 after a stage, checked on the real model.</summary>
public sealed class OnnxGraphCutTests
{
    private const string Input = "Input247";
    private const string Stride8 = "ReLU315_Output_0";

    [Fact]
    public void A_cut_model_outputs_the_requested_stage_at_any_input_size()
    {
        var cut = OnnxGraphCut.Expose(File.ReadAllBytes(ResNetFeatureExtractor.DefaultModelPath), Input, 3, [Stride8]);
        using var session = new InferenceSession(cut);

        Assert.Equal([Stride8], session.OutputMetadata.Keys);
        // The original model takes 224×224 only; the cut one any size, here 96×64 → a stride-8 map of 12×8.
        var input = new DenseTensor<float>(new float[3 * 64 * 96], [1, 3, 64, 96]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(Input, input)]);
        var output = results[0].AsTensor<float>();
        Assert.Equal([1, 128, 8, 12], output.Dimensions.ToArray());
        Assert.True(cut.Length < new FileInfo(ResNetFeatureExtractor.DefaultModelPath).Length, "the nodes past the cut and their weights stay in the model");
    }

    [Fact]
    public void A_tensor_the_model_does_not_have_is_named_in_the_error()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            OnnxGraphCut.Expose(File.ReadAllBytes(ResNetFeatureExtractor.DefaultModelPath), Input, 3, ["NoSuchTensor"]));
        Assert.Contains("NoSuchTensor", error.Message);
    }

    [Fact]
    public void Bytes_that_are_not_a_model_are_refused()
    {
        Assert.ThrowsAny<Exception>(() => OnnxGraphCut.Expose("not a model"u8.ToArray(), Input, 3, [Stride8]));
    }
}
