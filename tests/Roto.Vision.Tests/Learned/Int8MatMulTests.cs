using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Roto.Vision.Learned;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Learned;

public sealed class Int8MatMulTests(LearnedModelsFixture fixture) : IClassFixture<LearnedModelsFixture>
{
    private const int Rows = 3, Inner = 16, Cols = 5;

    [Fact]
    public void A_linear_layer_runs_in_integers_and_gives_the_float_result_within_quantization_error()
    {
        var weights = Weights();
        var model = LinearModel(weights, constantWeight: true);

        var (quantized, layers) = Int8MatMul.Quantize(model);

        Assert.Equal(1, layers);
        var graph = ModelProto.Parser.ParseFrom(quantized).Graph;
        Assert.DoesNotContain(graph.Node, n => n.OpType == "MatMul");
        Assert.Contains(graph.Node, n => n.OpType == "MatMulInteger");
        Assert.DoesNotContain(graph.Initializer, t => t.Name == "w");
        var input = Input();
        var expected = Run(model, input);
        var actual = Run(quantized, input);
        for (var c = 0; c < Cols; c++)
        {
            // Per column: the column of tiny weights must keep its precision too, not round to zero.
            var scale = Enumerable.Range(0, Rows).Max(r => Math.Abs(expected[r * Cols + c]));
            for (var r = 0; r < Rows; r++)
                Assert.True(Math.Abs(actual[r * Cols + c] - expected[r * Cols + c]) <= 0.03 * scale,
                    $"row {r} column {c}: {actual[r * Cols + c]} against {expected[r * Cols + c]}");
        }
    }

    [Fact]
    public void A_weight_that_two_layers_share_is_quantized_once()
    {
        var proto = ModelProto.Parser.ParseFrom(LinearModel(Weights(), constantWeight: true));
        var second = new NodeProto { OpType = "MatMul", Name = "matmul2" };
        second.Input.Add(["x", "w"]);
        second.Output.Add("y2");
        proto.Graph.Node.Add(second);
        proto.Graph.Output.Add(Value("y2", Rows, Cols));

        var (quantized, layers) = Int8MatMul.Quantize(proto.ToByteArray());

        Assert.Equal(2, layers);
        var graph = ModelProto.Parser.ParseFrom(quantized).Graph;
        var int8Weights = graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Uint8 && t.Dims.Count == 2).ToList();
        Assert.Single(int8Weights);
        Assert.Equal(2, graph.Node.Count(n => n.OpType == "MatMulInteger" && n.Input[1] == int8Weights[0].Name));
    }

    [Fact]
    public void A_product_of_two_activations_is_left_in_float()
    {
        var model = LinearModel(Weights(), constantWeight: false);

        var (rewritten, layers) = Int8MatMul.Quantize(model);

        Assert.Equal(0, layers);
        Assert.Same(model, rewritten);
    }

    [Fact]
    public void A_model_whose_weights_live_in_external_files_is_left_to_be_opened_from_its_path()
    {
        var proto = ModelProto.Parser.ParseFrom(LinearModel(Weights(), constantWeight: true));
        var weight = proto.Graph.Initializer.Single();
        weight.RawData = ByteString.Empty;
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        var model = proto.ToByteArray();

        var (rewritten, layers) = Int8MatMul.Quantize(model);

        Assert.Equal(0, layers);
        Assert.Same(model, rewritten);
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_left_for_onnx_runtime_to_refuse()
    {
        var path = Path.Combine(Path.GetTempPath(), $"roto-not-a-model-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]);
        try
        {
            Assert.Null(Int8MatMul.TryQuantize(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_int8_encoder_selects_what_the_float_encoder_selects_on_a_real_frame()
    {
        using var floatModels = SamModels.Load(SamModelFiles.In(ModelsDir.Resolve(null)), int8Encoder: false);
        Assert.True(fixture.Models.Encoder.Int8);
        Assert.False(floatModels.Encoder.Int8);
        using var frame = Frame("blackswan");
        using var truth = Truth("blackswan");
        var click = Interior(truth);

        using var int8Mask = new SamClickSegmenter(fixture.Models).Segment(new SegmentRequest(frame, [click], null));
        using var floatMask = new SamClickSegmenter(floatModels).Segment(new SegmentRequest(frame, [click], null));

        Assert.True(Iou(int8Mask, floatMask) >= 0.97, $"the two masks agree at IoU {Iou(int8Mask, floatMask):0.000}");
        Assert.True(Iou(int8Mask, truth) >= 0.7, $"IoU with the ground truth {Iou(int8Mask, truth):0.000}");
    }

    private static float[] Weights()
    {
        var random = new Random(7);
        var w = new float[Inner * Cols];
        for (var i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
        for (var r = 0; r < Inner; r++) w[r * Cols + 2] *= 1e-3f;
        return w;
    }

    private static float[] Input()
    {
        var random = new Random(11);
        return [.. Enumerable.Range(0, Rows * Inner).Select(_ => (float)(random.NextDouble() * 4 - 2))];
    }

    /// <summary>y = x · w, with w a constant weight or a second input.</summary>
    private static byte[] LinearModel(float[] weights, bool constantWeight)
    {
        var graph = new GraphProto { Name = "linear" };
        graph.Input.Add(Value("x", Rows, Inner));
        if (constantWeight)
        {
            var bytes = new byte[weights.Length * sizeof(float)];
            Buffer.BlockCopy(weights, 0, bytes, 0, bytes.Length);
            var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
            w.Dims.Add([Inner, Cols]);
            graph.Initializer.Add(w);
        }
        else
        {
            graph.Input.Add(Value("w", Inner, Cols));
        }
        var node = new NodeProto { OpType = "MatMul", Name = "matmul" };
        node.Input.Add(["x", "w"]);
        node.Output.Add("y");
        graph.Node.Add(node);
        graph.Output.Add(Value("y", Rows, Cols));
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string name, int rows, int cols)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = rows });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = cols });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static float[] Run(byte[] model, float[] input)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, [Rows, Inner]))]);
        return [.. results[0].AsTensor<float>()];
    }
}
