using System.Text.RegularExpressions;
using Google.Protobuf;
using Onnx;

namespace Roto.Vision.Learned;

/// <summary>
/// Rewrites the TinyViT encoder export (MobileSAM's, the one <c>scripts/models.sh</c> fetches) to take a smaller
/// input than its 1024×1024 square: a 16:9 frame fills 1024×576 of that square, and the rest is padding the network
/// works through at the same cost as the picture. The export's convolutions take any size, but its attention blocks
/// carry the square's stage sizes as constants (the feature map's height and width, the window padding, the number
/// of windows, the padded size); this sets them for the given input. Exports of other shapes (SAM ViT-B/H, EdgeSAM)
/// are not recognised and run on the square as before.
/// </summary>
public static partial class TinyVitInputSize
{
    /// <summary>The input sizes must be multiples of this: the stem and two downsamplings halve the map four times.</summary>
    public const int Step = 16;

    private const int Square = SamEncoder.InputSide;

    /// <summary>
    /// The model with its input set to <paramref name="height"/>×<paramref name="width"/> (multiples of <see cref="Step"/>,
    /// at most 1024), or null where the model is not the TinyViT export this knows, or a constant it expects is not
    /// there with the square's value.
    /// </summary>
    public static byte[]? TryResize(byte[] model, int height, int width)
    {
        if (height % Step != 0 || width % Step != 0 || height is <= 0 or > Square || width is <= 0 or > Square) return null;
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
        var graph = proto.Graph;
        if (graph == null || graph.Input.Count != 1) return null;
        var constants = graph.Node.Where(n => n.OpType == "Constant" && n.Attribute.Count == 1 && n.Attribute[0].T is { } t
                && t.DataType == (int)TensorProto.Types.DataType.Int64 && t.Dims.Count <= 1)
            .ToDictionary(n => n.Output[0], n => Int64s(n.Attribute[0].T));
        var edit = new GraphEdit(graph, constants);
        var blocks = 0;
        // The first stage's blocks are convolutions, which take any size; the attention blocks are those to set.
        foreach (var block in graph.Node.Select(n => AttentionBlock().Match(n.Name)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList())
        {
            if (!ResizeBlock(edit, block, height, width)) return null;
            blocks++;
        }
        // The merges between stages reshape to the square's map, and so does the neck after the last stage.
        var reshapes = 0;
        foreach (var node in graph.Node.Where(n => n.OpType == "Reshape" && DownsampleReshape().IsMatch(n.Name)))
        {
            if (!edit.TryGet(node, 1, out var shape) || shape is not [1, var s, var s2, -1] || s != s2) continue;
            edit.Set(node, 1, [1, StageSize(s, height), StageSize(s, width), -1]);
            reshapes++;
        }
        var neck = graph.Node.FirstOrDefault(n => n.Name == "/Concat" && n.OpType == "Concat");
        if (blocks == 0 || reshapes == 0 || neck == null || !edit.TryGet(neck, 1, out var nh) || !edit.TryGet(neck, 2, out var nw)
            || nh is not [64] || nw is not [64]) return null;
        edit.Set(neck, 1, [StageSize(64, height)]);
        edit.Set(neck, 2, [StageSize(64, width)]);
        var dims = graph.Input[0].Type?.TensorType?.Shape?.Dim;
        if (dims is not { Count: 4 }) return null;
        dims[2].DimValue = height;
        dims[3].DimValue = width;
        // The output's recorded shape would contradict the new one; ONNX Runtime infers it again.
        foreach (var output in graph.Output)
            if (output.Type?.TensorType is { } type) type.Shape = null;
        graph.ValueInfo.Clear();
        edit.Commit();
        return proto.ToByteArray();
    }

    /// <summary>The side of a stage's map for an input side, given the side it has for the 1024 square.</summary>
    public static int StageSize(long squareSize, int inputSide) => (int)(squareSize * inputSide / Square);

    /// <summary>
    /// One attention block: its map is split into windows of <c>k</c>×<c>k</c> after padding its bottom and right
    /// edges to a multiple of <c>k</c>, attended, merged and cut back to the map. Every constant is checked against the
    /// square's value before it is changed, so that an export that differs in any of them is left alone.
    /// </summary>
    private static bool ResizeBlock(GraphEdit edit, string block, int height, int width)
    {
        NodeProto? Find(string name) => edit.Graph.Node.FirstOrDefault(n => n.Name == $"{block}/{name}");
        var map = Find("Concat");
        var windows = Find("Concat_2");
        if (map == null || windows == null || !edit.TryGet(map, 1, out var s) || s is not [var side]
            || !edit.TryGet(windows, 2, out var k) || k is not [var window]) return false;
        var pad = (window - side % window) % window;
        var count = (side + pad) / window;
        long h = StageSize(side, height), w = StageSize(side, width);
        long padH = (window - h % window) % window, padW = (window - w % window) % window;
        long countH = (h + padH) / window, countW = (w + padW) / window;
        // (node, input, the square's value, the new one)
        (string Node, int Input, long[] Square, long[] Sized)[] changes =
        [
            ("Concat", 1, [side], [h]), ("Concat", 2, [side], [w]),
            ("Concat_1", 0, [0, 0, 0, pad, 0, pad], [0, 0, 0, padW, 0, padH]),
            ("Concat_2", 1, [count], [countH]), ("Concat_2", 3, [count], [countW]),
            ("Mul", 1, [count], [countH]), ("Mul_1", 1, [count], [countW]),
            ("Concat_4", 1, [count], [countH]), ("Concat_4", 2, [count], [countW]),
            ("Concat_5", 1, [side + pad], [h + padH]), ("Concat_5", 2, [side + pad], [w + padW]),
            ("Slice_1", 2, [side], [h]), ("Slice_2", 2, [side], [w]),
            ("Concat_7", 2, [side], [h]), ("Concat_7", 3, [side], [w]),
        ];
        foreach (var (name, input, square, _) in changes)
            if (Find(name) is not { } node || !edit.TryGet(node, input, out var value) || !value.SequenceEqual(square)) return false;
        foreach (var (name, input, _, sized) in changes) edit.Set(Find(name)!, input, sized);
        return true;
    }

    private static long[] Int64s(TensorProto t)
    {
        if (t.Int64Data.Count > 0) return [.. t.Int64Data];
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();
    }

    [GeneratedRegex(@"^(/layers\.\d+/blocks\.\d+)/attn/")]
    private static partial Regex AttentionBlock();

    [GeneratedRegex(@"^/layers\.\d+/downsample/Reshape$")]
    private static partial Regex DownsampleReshape();

    /// <summary>
    /// Reads the int64 constants nodes take as inputs, and gives a node a new constant of its own for an input: the
    /// export shares some constant nodes among several readers, which must keep theirs.
    /// </summary>
    private sealed class GraphEdit(GraphProto graph, Dictionary<string, long[]> constants)
    {
        private readonly List<NodeProto> _added = [];

        public GraphProto Graph { get; } = graph;

        public bool TryGet(NodeProto node, int input, out long[] value)
        {
            value = [];
            if (input >= node.Input.Count) return false;
            var name = node.Input[input];
            if (constants.TryGetValue(name, out var found))
            {
                value = found;
                return true;
            }
            var initializer = Graph.Initializer.FirstOrDefault(t => t.Name == name && t.DataType == (int)TensorProto.Types.DataType.Int64);
            if (initializer == null) return false;
            value = Int64s(initializer);
            return true;
        }

        public void Set(NodeProto node, int input, long[] value)
        {
            var name = $"roto_size_{_added.Count}";
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            // A scalar stays a scalar (Mul by the window count), a list stays a list.
            if (!(TryGet(node, input, out var old) && old.Length == 1 && IsScalar(node.Input[input]))) tensor.Dims.Add(value.Length);
            tensor.Int64Data.Add(value);
            var constant = new NodeProto { OpType = "Constant", Name = name };
            constant.Output.Add(name);
            constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = tensor });
            _added.Add(constant);
            constants[name] = value;
            node.Input[input] = name;
        }

        private bool IsScalar(string name) =>
            Graph.Node.FirstOrDefault(n => n.OpType == "Constant" && n.Output.Count == 1 && n.Output[0] == name)?.Attribute[0].T.Dims.Count == 0;

        /// <summary>
        /// The new constants go first: the graph's nodes must stay in an order where inputs precede readers. Constants
        /// that nothing reads any more are dropped (ONNX Runtime would warn about each).
        /// </summary>
        public void Commit()
        {
            var read = new HashSet<string>(Graph.Node.SelectMany(n => n.Input));
            var nodes = _added.Concat(Graph.Node.Where(n => n.OpType != "Constant" || n.Output.Any(read.Contains))).ToList();
            Graph.Node.Clear();
            Graph.Node.AddRange(nodes);
        }
    }
}
