using OpenCvSharp;
using Roto.TestSupport;
using Roto.Vision.Learned;

namespace Roto.Vision.Tests.Learned;

public sealed class LearnedModelFileTests
{
    [Fact]
    public void A_truncated_model_file_is_refused_with_its_name()
    {
        var dir = TestData.TempDir("roto-models");
        try
        {
            var real = SamModelFiles.In(ModelsDir.Resolve(null));
            var copy = SamModelFiles.In(dir);
            File.Copy(real.Decoder, copy.Decoder);
            File.Copy(real.Saliency, copy.Saliency);
            File.WriteAllBytes(copy.Encoder, File.ReadAllBytes(real.Encoder).AsSpan(0, 100_000).ToArray());

            var error = Assert.Throws<InvalidDataException>(() => SamModels.Load(copy));
            Assert.Contains("sam-encoder.onnx", error.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_model_of_another_signature_is_refused()
    {
        var dir = TestData.TempDir("roto-models");
        try
        {
            var real = SamModelFiles.In(ModelsDir.Resolve(null));
            var copy = SamModelFiles.In(dir);
            // The saliency network where the decoder should be: a valid ONNX file with the wrong inputs.
            File.Copy(real.Encoder, copy.Encoder);
            File.Copy(real.Saliency, copy.Decoder);
            File.Copy(real.Saliency, copy.Saliency);

            var error = Assert.Throws<InvalidDataException>(() => SamModels.Load(copy));
            Assert.Contains("image_embeddings", error.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_missing_folder_names_the_file_it_looked_for()
    {
        var error = Assert.Throws<FileNotFoundException>(() => SamModels.Load(SamModelFiles.In("/nonexistent-roto-models")));
        Assert.Contains("sam-encoder.onnx", error.Message);
    }
}
