using System.Text.Json;
using OpenCvSharp;
using Roto.Masks;
using Roto.Vision;

namespace Roto.Core.Tracking;

/// <summary>
/// Every frame's masks as COCO RLE strings: small enough to keep a whole video's track in memory, decoded one
/// frame at a time when an engine asks.
/// </summary>
public sealed class RleMaskTrack(int width, int height, IReadOnlyList<IReadOnlyDictionary<int, string>> frames) : IMaskTrack
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public IReadOnlyList<IReadOnlyDictionary<int, string>> Frames { get; } = frames;
    public int FrameCount => Frames.Count;

    public bool IsEmpty => Frames.All(f => f.Values.All(c => CocoRle.ParseCounts(c).Count <= 1));

    public Mat UnionMask(int frameIndex)
    {
        var union = new Mat(Height, Width, MatType.CV_8UC1, Scalar.All(0));
        foreach (var counts in Frames[frameIndex].Values)
        {
            using var m = MaskMats.ToMat(CocoRle.Decode(Height, Width, counts));
            Cv2.BitwiseOr(union, m, union);
        }
        return union;
    }

    /// <summary>Encodes a CV_8UC1 mask (non-zero = selected) to COCO RLE, column-major via a transpose.</summary>
    public static unsafe string Encode(Mat mask)
    {
        using var transposed = new Mat();
        Cv2.Transpose(mask, transposed);
        return CocoRle.EncodeColumnMajor(new ReadOnlySpan<byte>((void*)transposed.Data, mask.Width * mask.Height));
    }

    /// <summary>Reads the tracking_output document (decision 3).</summary>
    public static async Task<RleMaskTrack> LoadAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        var root = doc.RootElement;
        var frames = new List<IReadOnlyDictionary<int, string>>();
        foreach (var frame in root.GetProperty("frames").EnumerateArray())
        {
            var masks = new Dictionary<int, string>();
            foreach (var m in frame.GetProperty("rle_mask_list").EnumerateArray())
                masks[m.GetProperty("object_id").GetInt32()] = m.GetProperty("rle_mask").GetProperty("counts").GetString()!;
            frames.Add(masks);
        }
        return new RleMaskTrack(root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32(), frames);
    }
}

/// <summary>Streams the tracking_output JSON (decision 3) to a file, one frame at a time.</summary>
public sealed class TrackingJsonWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _json;
    private readonly int _width, _height;

    public TrackingJsonWriter(string path, string sessionId, int width, int height, double fps, int totalFrames)
    {
        _width = width;
        _height = height;
        _stream = File.Create(path);
        _json = new Utf8JsonWriter(_stream);
        _json.WriteStartObject();
        _json.WriteString("session_id", sessionId);
        _json.WriteNumber("width", width);
        _json.WriteNumber("height", height);
        _json.WriteNumber("fps", fps);
        _json.WriteNumber("total_frame", totalFrames);
        _json.WriteStartArray("frames");
    }

    public void WriteFrame(int frameIndex, IReadOnlyDictionary<int, string> masks)
    {
        _json.WriteStartObject();
        _json.WriteNumber("frame_index", frameIndex);
        _json.WriteStartArray("rle_mask_list");
        foreach (var (objectId, counts) in masks.OrderBy(m => m.Key))
        {
            _json.WriteStartObject();
            _json.WriteNumber("object_id", objectId);
            _json.WriteStartObject("rle_mask");
            _json.WriteStartArray("size");
            _json.WriteNumberValue(_height);
            _json.WriteNumberValue(_width);
            _json.WriteEndArray();
            _json.WriteString("counts", counts);
            _json.WriteEndObject();
            _json.WriteEndObject();
        }
        _json.WriteEndArray();
        _json.WriteEndObject();
        if (_json.BytesPending > 64 * 1024) _json.Flush();
    }

    public void Complete()
    {
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
    }

    public void Dispose()
    {
        _json.Dispose();
        _stream.Dispose();
    }
}
