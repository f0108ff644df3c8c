using Google.Protobuf;
using Onnx;

namespace Roto.Vision.Learned;

/// <summary>
/// Rewrites a model's linear layers (MatMul by a constant 2-D weight) to 8-bit integer arithmetic: the weight
/// quantized once, symmetric per output column (as uint8 around 128); the activation at run time (DynamicQuantizeLinear). ONNX Runtime fuses
/// the pattern into its integer matrix kernels, which on CPUs with VNNI take the SAM encoder's linear layers at about
/// half the time; the convolutions and attention products stay in float. Quantizing at load keeps the shipped file the
/// one whose sha256 <c>scripts/models.sh</c> checks, and applies to any encoder export a user configures.
/// </summary>
public static class Int8MatMul
{
    /// <summary>Protobuf cannot hold a message of 2 GiB; exports that large (SAM ViT-H) keep their weights in files beside them.</summary>
    private const long LargestModel = int.MaxValue;

    /// <summary>
    /// The model at <paramref name="path"/> with its linear layers in int8, or null where it is to be opened as it is:
    /// nothing to quantize, weights kept in external files (read relative to the model's path, which a model passed as
    /// bytes has not), too large for one protobuf message, or not a model at all (ONNX Runtime then says why).
    /// </summary>
    public static byte[]? TryQuantize(string path)
    {
        if (new FileInfo(path).Length >= LargestModel) return null;
        try
        {
            var (model, layers) = Quantize(File.ReadAllBytes(path));
            return layers > 0 ? model : null;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>Returns the rewritten model and how many layers were quantized (0: the model is returned unchanged).</summary>
    public static (byte[] Model, int Layers) Quantize(byte[] model)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        if (proto.Graph == null || proto.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External)) return (model, 0);
        // DynamicQuantizeLinear came with opset 11; an older export stays as it is.
        if (proto.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx") is not { Version: >= 11 }) return (model, 0);
        var graph = proto.Graph;
        var weights = graph.Initializer.Where(IsFloatMatrix).ToDictionary(t => t.Name);
        var rewritten = new List<NodeProto>(graph.Node.Count);
        // A weight that several layers share is quantized once and read by all of them.
        var quantizedWeights = new Dictionary<string, (string Values, string Scales, string Zeros)>();
        var layers = 0;
        foreach (var node in graph.Node)
        {
            if (node.OpType != "MatMul" || node.Input.Count != 2 || !weights.TryGetValue(node.Input[1], out var weight))
            {
                rewritten.Add(node);
                continue;
            }
            var name = $"roto_int8_{layers++}";
            if (!quantizedWeights.TryGetValue(weight.Name, out var q))
            {
                var (values, scales) = PerColumn(weight, name);
                var zeros = WeightZeros(name + "_wzp", scales.Dims[0]);
                graph.Initializer.Add([values, scales, zeros]);
                quantizedWeights[weight.Name] = q = (values.Name, scales.Name, zeros.Name);
            }
            rewritten.Add(Node("DynamicQuantizeLinear", [node.Input[0]], [name + "_a", name + "_as", name + "_azp"]));
            rewritten.Add(Node("MatMulInteger", [name + "_a", q.Values, name + "_azp", q.Zeros], [name + "_i32"]));
            var cast = Node("Cast", [name + "_i32"], [name + "_f"]);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
            rewritten.Add(cast);
            rewritten.Add(Node("Mul", [name + "_as", q.Scales], [name + "_s"]));
            rewritten.Add(Node("Mul", [name + "_f", name + "_s"], [node.Output[0]]));
        }
        if (layers == 0) return (model, 0);
        graph.Node.Clear();
        graph.Node.AddRange(rewritten);
        // A float weight that no node reads any more would only be loaded and then dropped with a warning.
        var read = new HashSet<string>(rewritten.SelectMany(n => n.Input));
        foreach (var unused in graph.Initializer.Where(t => quantizedWeights.ContainsKey(t.Name) && !read.Contains(t.Name)).ToList())
            graph.Initializer.Remove(unused);
        return (proto.ToByteArray(), layers);
    }

    private static bool IsFloatMatrix(TensorProto t) =>
        t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Count == 2 && t.Dims[0] * t.Dims[1] > 0
        && (t.FloatData.Count == t.Dims[0] * t.Dims[1] || t.RawData.Length == t.Dims[0] * t.Dims[1] * sizeof(float));

    private static float[] Floats(TensorProto t)
    {
        if (t.FloatData.Count > 0) return [.. t.FloatData];
        var raw = t.RawData.Span;
        var values = new float[raw.Length / sizeof(float)];
        // ONNX stores raw tensor data little-endian, as every platform ONNX Runtime runs on is.
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
        return values;
    }

    /// <summary>
    /// Weights are stored as uint8 around a zero point of 128, not as int8: on x86 CPUs without VNNI (AVX2 alone) ONNX
    /// Runtime's kernel for uint8 activations by int8 weights adds each pair of products in saturating 16-bit
    /// arithmetic, and 255 · 127 · 2 overflows it (a test layer came out at −0.97 for −0.21); its uint8 by uint8 kernel
    /// widens to 16 bits first and does not.
    /// </summary>
    private const float LargestWeight = 127f;
    private const byte WeightZero = 128;

    /// <summary>Symmetric int8 per output column (zero point 0), so that a column of small weights keeps its precision.</summary>
    private static (TensorProto Quantized, TensorProto Scales) PerColumn(TensorProto weight, string name)
    {
        int rows = (int)weight.Dims[0], cols = (int)weight.Dims[1];
        var w = Floats(weight);
        var scales = new float[cols];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                scales[c] = Math.Max(scales[c], Math.Abs(w[r * cols + c]));
        for (var c = 0; c < cols; c++) scales[c] = scales[c] > 0 ? scales[c] / LargestWeight : 1f;
        var q = new byte[w.Length];
        for (var i = 0; i < w.Length; i++)
            q[i] = (byte)(WeightZero + Math.Clamp(MathF.Round(w[i] / scales[i % cols]), -LargestWeight, LargestWeight));
        var quantized = new TensorProto { Name = name + "_wq", DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(q) };
        quantized.Dims.Add([rows, cols]);
        var scaleBytes = new byte[cols * sizeof(float)];
        Buffer.BlockCopy(scales, 0, scaleBytes, 0, scaleBytes.Length);
        var scaleTensor = new TensorProto { Name = name + "_ws", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(scaleBytes) };
        scaleTensor.Dims.Add(cols);
        return (quantized, scaleTensor);
    }

    private static TensorProto WeightZeros(string name, long count)
    {
        var zeros = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(Enumerable.Repeat(WeightZero, (int)count).ToArray()) };
        zeros.Dims.Add(count);
        return zeros;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = outputs[0] };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        return node;
    }
}
