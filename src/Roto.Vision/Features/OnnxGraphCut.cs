using Google.Protobuf;
using Onnx;

namespace Roto.Vision.Features;

/// <summary>
/// Rewrites a serialized ONNX model so that intermediate tensors become its outputs and the image input takes any
/// height and width. ONNX Runtime's C# API has no graph editing; OnnxSharp's protobuf classes do the reading and writing.
/// </summary>
public static class OnnxGraphCut
{
    /// <summary>
    /// Returns a model whose outputs are <paramref name="outputs"/> (float tensors), whose input
    /// <paramref name="input"/> is NCHW float with free H and W, and which keeps only the nodes up to the last one
    /// that produces a requested output (the ONNX node list is topologically sorted).
    /// </summary>
    public static byte[] Expose(byte[] model, string input, int channels, IReadOnlyList<string> outputs)
    {
        var proto = Parse(model);
        var graph = proto.Graph;
        var wanted = outputs.ToHashSet();
        var found = new HashSet<string>();
        var lastNeeded = -1;
        for (var i = 0; i < graph.Node.Count; i++)
            foreach (var name in graph.Node[i].Output.Where(wanted.Contains)) { lastNeeded = i; found.Add(name); }
        RequireAll(wanted.Except(found));

        var kept = graph.Node.Take(lastNeeded + 1).ToList();
        // Weights and inputs of the dropped nodes go too: ONNX Runtime rejects initializers that no node reads.
        var used = kept.SelectMany(n => n.Input).ToHashSet();
        var initializers = graph.Initializer.Where(t => used.Contains(t.Name)).ToList();
        var inputs = graph.Input.Where(v => v.Name == input || used.Contains(v.Name))
            .Select(v => v.Name == input ? FloatTensorInfo(input, Dimension(1), Dimension(channels), Dimension("height"), Dimension("width")) : v)
            .ToList();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        // Fixed shapes of the original resolution; ONNX Runtime infers the new ones.
        graph.ValueInfo.Clear();
        graph.Output.Clear();
        graph.Output.AddRange(outputs.Select(name => FloatTensorInfo(name)));
        return proto.ToByteArray();
    }

    /// <summary>
    /// Returns the whole model with the intermediate float tensors <paramref name="outputs"/> as further outputs (an
    /// export that computes more than it returns, such as SAM's decoder, which keeps one of its four masks).
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor of that name is not produced by any node.</exception>
    public static byte[] WithOutputs(byte[] model, IReadOnlyList<string> outputs)
    {
        var proto = Parse(model);
        var produced = proto.Graph.Node.SelectMany(n => n.Output).ToHashSet();
        RequireAll(outputs.Where(o => !produced.Contains(o)));
        proto.Graph.Output.AddRange(outputs.Select(name => FloatTensorInfo(name)));
        return proto.ToByteArray();
    }

    private static ModelProto Parse(byte[] model)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        return proto.Graph != null ? proto : throw new InvalidDataException("ONNX model has no graph");
    }

    private static void RequireAll(IEnumerable<string> missing)
    {
        var names = missing.ToList();
        if (names.Count > 0) throw new InvalidDataException($"ONNX model has no tensor named {string.Join(", ", names)}");
    }

    private static TensorShapeProto.Types.Dimension Dimension(long size) => new() { DimValue = size };
    private static TensorShapeProto.Types.Dimension Dimension(string parameter) => new() { DimParam = parameter };

    /// <summary>A float tensor of this name, with this shape or, given none, a shape left to inference.</summary>
    private static ValueInfoProto FloatTensorInfo(string name, params TensorShapeProto.Types.Dimension[] dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float };
        if (dims.Length > 0)
        {
            tensor.Shape = new TensorShapeProto();
            tensor.Shape.Dim.AddRange(dims);
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
