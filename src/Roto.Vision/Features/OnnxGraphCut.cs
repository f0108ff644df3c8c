namespace Roto.Vision.Features;

/// <summary>
/// Rewrites a serialized ONNX model so that intermediate tensors become its outputs and the image input takes any
/// height and width. ONNX Runtime's C# API has no graph editing and the onnx protobuf classes are not on NuGet, so
/// this walks the few protobuf fields involved by hand (ModelProto.graph, GraphProto.node/input/output/value_info).
/// </summary>
public static class OnnxGraphCut
{
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    private const int GraphInitializer = 5;
    private const int NodeInput = 1, NodeOutput = 2;
    private const int TensorName = 8;
    private const int ValueInfoName = 1;

    /// <summary>
    /// Returns a model whose outputs are <paramref name="outputs"/> (float tensors), whose input
    /// <paramref name="input"/> is NCHW float with free H and W, and which keeps only the nodes up to the last one
    /// that produces a requested output (the ONNX node list is topologically sorted).
    /// </summary>
    public static byte[] Expose(byte[] model, string input, int channels, IReadOnlyList<string> outputs)
    {
        var modelFields = Protobuf.Read(model);
        var graphField = modelFields.FirstOrDefault(f => f.Number == ModelGraph)
            ?? throw new InvalidDataException("ONNX model has no graph");
        var graphFields = Protobuf.Read(graphField.Bytes);

        var lastNeeded = -1;
        var nodeIndex = 0;
        var wanted = new HashSet<string>(outputs);
        var found = new HashSet<string>();
        foreach (var f in graphFields.Where(f => f.Number == GraphNode))
        {
            foreach (var o in Protobuf.Read(f.Bytes).Where(x => x.Number == NodeOutput))
            {
                var name = o.Text;
                if (wanted.Contains(name)) { lastNeeded = nodeIndex; found.Add(name); }
            }
            nodeIndex++;
        }
        var missing = wanted.Except(found).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"ONNX model has no tensor named {string.Join(", ", missing)}");

        // Weights of the dropped nodes go too: ONNX Runtime rejects initializers that no node reads.
        var used = new HashSet<string>();
        foreach (var f in graphFields.Where(f => f.Number == GraphNode).Take(lastNeeded + 1))
            foreach (var i in Protobuf.Read(f.Bytes).Where(x => x.Number == NodeInput)) used.Add(i.Text);

        var graph = new ProtobufWriter();
        nodeIndex = 0;
        foreach (var f in graphFields)
        {
            switch (f.Number)
            {
                case GraphNode:
                    if (nodeIndex++ <= lastNeeded) graph.Field(f);
                    break;
                case GraphInitializer:
                    if (used.Contains(NameOf(f, TensorName))) graph.Field(f);
                    break;
                case GraphInput:
                    var name = NameOf(f, ValueInfoName);
                    if (name == input) graph.Bytes(GraphInput, FloatTensorInfo(input, [1L, channels, "height", "width"]));
                    else if (used.Contains(name)) graph.Field(f);
                    break;
                case GraphOutput:
                case GraphValueInfo:
                    break; // fixed shapes of the original resolution; ONNX Runtime infers the new ones
                default:
                    graph.Field(f);
                    break;
            }
        }
        foreach (var name in outputs) graph.Bytes(GraphOutput, FloatTensorInfo(name, null));

        var result = new ProtobufWriter();
        foreach (var f in modelFields)
        {
            if (f.Number == ModelGraph) result.Bytes(ModelGraph, graph.ToArray());
            else result.Field(f);
        }
        return result.ToArray();
    }

    /// <summary>
    /// Returns the whole model with the intermediate float tensors <paramref name="outputs"/> as further outputs (an
    /// export that computes more than it returns, such as SAM's decoder, which keeps one of its four masks).
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor of that name is not produced by any node.</exception>
    public static byte[] WithOutputs(byte[] model, IReadOnlyList<string> outputs)
    {
        var modelFields = Protobuf.Read(model);
        var graphField = modelFields.FirstOrDefault(f => f.Number == ModelGraph)
            ?? throw new InvalidDataException("ONNX model has no graph");
        var graphFields = Protobuf.Read(graphField.Bytes);
        var produced = graphFields.Where(f => f.Number == GraphNode)
            .SelectMany(f => Protobuf.Read(f.Payload).Where(x => x.Number == NodeOutput).Select(x => x.Text))
            .ToHashSet();
        var missing = outputs.Where(o => !produced.Contains(o)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"ONNX model has no tensor named {string.Join(", ", missing)}");

        var graph = new ProtobufWriter();
        foreach (var f in graphFields) graph.Field(f);
        foreach (var name in outputs) graph.Bytes(GraphOutput, FloatTensorInfo(name, null));
        var result = new ProtobufWriter();
        foreach (var f in modelFields)
        {
            if (f.Number == ModelGraph) result.Bytes(ModelGraph, graph.ToArray());
            else result.Field(f);
        }
        return result.ToArray();
    }

    private static string NameOf(ProtobufField message, int nameField) =>
        Protobuf.Read(message.Payload).FirstOrDefault(x => x.Number == nameField)?.Text ?? "";

    /// <summary>ValueInfoProto { name, type: TypeProto { tensor_type { elem_type: FLOAT, shape? } } }.</summary>
    private static byte[] FloatTensorInfo(string name, object[]? dims)
    {
        var tensor = new ProtobufWriter();
        tensor.Varint(1, 1); // elem_type FLOAT
        if (dims != null)
        {
            var shape = new ProtobufWriter();
            foreach (var d in dims)
            {
                var dim = new ProtobufWriter();
                if (d is string param) dim.Text(2, param); else dim.Varint(1, (ulong)Convert.ToInt64(d));
                shape.Bytes(1, dim.ToArray());
            }
            tensor.Bytes(2, shape.ToArray());
        }
        var type = new ProtobufWriter();
        type.Bytes(1, tensor.ToArray());
        var info = new ProtobufWriter();
        info.Text(ValueInfoName, name);
        info.Bytes(2, type.ToArray());
        return info.ToArray();
    }
}

/// <summary>One field of a protobuf message as it was serialized.</summary>
internal sealed record ProtobufField(int Number, int WireType, ulong Value, ReadOnlyMemory<byte> Raw, ReadOnlyMemory<byte> Payload)
{
    public byte[] Bytes => Payload.ToArray();
    public string Text => System.Text.Encoding.UTF8.GetString(Payload.Span);
}

internal static class Protobuf
{
    public static List<ProtobufField> Read(ReadOnlyMemory<byte> message)
    {
        var fields = new List<ProtobufField>();
        var span = message.Span;
        var i = 0;
        while (i < span.Length)
        {
            var start = i;
            var key = ReadVarint(span, ref i);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            ulong value = 0;
            ReadOnlyMemory<byte> payload = ReadOnlyMemory<byte>.Empty;
            switch (wire)
            {
                case 0: value = ReadVarint(span, ref i); break;
                case 1: payload = message.Slice(i, 8); i += 8; break;
                case 2:
                    var length = (int)ReadVarint(span, ref i);
                    payload = message.Slice(i, length); i += length; break;
                case 5: payload = message.Slice(i, 4); i += 4; break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
            fields.Add(new ProtobufField(number, wire, value, message[start..i], payload));
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[i++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
    }
}

internal sealed class ProtobufWriter
{
    private readonly MemoryStream _stream = new();

    public void Field(ProtobufField field) => _stream.Write(field.Raw.Span);

    public void Varint(int number, ulong value)
    {
        WriteVarint((ulong)number << 3);
        WriteVarint(value);
    }

    public void Bytes(int number, ReadOnlySpan<byte> payload)
    {
        WriteVarint(((ulong)number << 3) | 2);
        WriteVarint((ulong)payload.Length);
        _stream.Write(payload);
    }

    public void Text(int number, string text) => Bytes(number, System.Text.Encoding.UTF8.GetBytes(text));

    public byte[] ToArray() => _stream.ToArray();

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80) { _stream.WriteByte((byte)(value | 0x80)); value >>= 7; }
        _stream.WriteByte((byte)value);
    }
}
