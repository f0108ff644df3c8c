using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;
using Roto.Masks;
using Roto.TestSupport;
using Roto.Vision;
using Roto.Vision.Learned;
using Roto.Vision.Propagation;

namespace Roto.Server.Tests;

/// <summary>
/// The learned engines through the wire, on the real networks that ./test.sh fetches (scripts/models.sh), and the
/// classical fallback when the models folder is empty or holds a broken file.
/// </summary>
public sealed class LearnedEngineTests(LearnedEngineTests.Swan swan) : IClassFixture<LearnedEngineTests.Swan>
{
    private const string B = "/v1/videos/multi-elements";

    /// <summary>davis16-dev's blackswan as a video (854×480, 50 frames), with its ground truth.</summary>
    public sealed class Swan : IDisposable
    {
        private readonly string _dir = TestData.TempDir("roto-swan");

        public Swan()
        {
            Path = System.IO.Path.Combine(_dir, "blackswan.mp4");
            TestData.Ffmpeg("-framerate", "24", "-i", System.IO.Path.Combine(TestData.Davis("blackswan"), "frames", "%05d.jpg"),
                "-c:v", "libx264", "-crf", "14", "-pix_fmt", "yuv420p", Path);
        }

        public string Path { get; }

        public static BinaryMask Truth(int frame)
        {
            using var mask = Cv2.ImRead(System.IO.Path.Combine(TestData.Davis("blackswan"), "masks", $"{frame:D5}.png"), ImreadModes.Grayscale);
            using var binary = mask.Threshold(127, 255, ThresholdTypes.Binary);
            var plane = new byte[binary.Rows * binary.Cols];
            System.Runtime.InteropServices.Marshal.Copy(binary.Data, plane, 0, plane.Length);
            return BinaryMask.FromNonZero(binary.Cols, binary.Rows, plane);
        }

        public void Dispose() => Directory.Delete(_dir, true);
    }

    private static RotoApp Learned(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?> { ["Roto:Models:Engine"] = "auto", ["Roto:Limits:Profile"] = "relaxed" };
        foreach (var (k, v) in more ?? []) settings[k] = v;
        return new RotoApp(settings);
    }

    private static BinaryMask MaskOf(JsonNode res, int objectId) =>
        CocoRle.Decode(480, 854, res["rle_mask_list"]!.AsArray().Single(m => m!["object_id"]!.GetValue<int>() == objectId)!["rle_mask"]!["counts"]!.GetValue<string>());

    [Fact]
    public async Task A_click_selects_the_swan_its_track_follows_it_and_health_names_the_learned_engines()
    {
        using var app = Learned();
        using var client = app.Client();
        var health = JsonNode.Parse(await client.GetStringAsync("/health"))!;
        Assert.Equal("learned", health["engines"]!["kind"]!.GetValue<string>());
        Assert.Equal("sam", health["engines"]!["segmenter"]!.GetValue<string>());
        Assert.Equal("matching on corrected frames+sam up to 120 frames, flow+sam beyond", health["engines"]!["tracker"]!.GetValue<string>());
        Assert.Equal("matching+sam up to 150 frames, flow+sam beyond", health["engines"]!["task_tracker"]!.GetValue<string>());
        Assert.IsType<SamClickSegmenter>(app.Services.GetRequiredService<IClickSegmenter>());

        var sid = (await Wire.InitAsync(client, swan.Path))["session_id"]!.GetValue<string>();
        var click = (await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 0, points = new[] { new { x = 272.0 / 854, y = 319.0 / 480 } } })).Ok().Data["res"]!;
        var iou = MaskOf(click, 0).IoU(Swan.Truth(0));
        Assert.True(iou >= 0.7, $"one click's mask against the ground truth: IoU {iou:0.000}");

        // A second element on the same frame has a mask of its own and leaves the first as it was.
        var second = (await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 0, object_id = 1, points = new[] { new { x = 0.1, y = 0.1 } } })).Ok().Data["res"]!;
        Assert.Equal(2, second["rle_mask_list"]!.AsArray().Count);
        Assert.Equal(1.0, MaskOf(click, 0).IoU(MaskOf(second, 0)), 3);
        Assert.True(MaskOf(second, 1).IoU(MaskOf(second, 0)) < 0.1, "the second element took the first one's mask");
        (await Wire.PostAsync(client, $"{B}/delete-selection",
            new { session_id = sid, frame_index = 0, object_id = 1, points = new[] { new { x = 0.1, y = 0.1 } } })).Ok();

        var res = (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok().Data["res"]!;
        var frames = JsonNode.Parse(await Wire.DownloadAsync(client, res["tracking_output"]!.GetValue<string>()))!["frames"]!.AsArray();
        Assert.Equal(50, frames.Count);
        foreach (var t in new[] { 10, 25, 45 })
        {
            var tracked = CocoRle.Decode(480, 854, frames[t]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>());
            var j = tracked.IoU(Swan.Truth(t));
            Assert.True(j >= 0.7, $"frame {t}: tracked mask against the ground truth IoU {j:0.000}");
        }
    }

    [Fact]
    public async Task A_click_on_a_frame_the_preview_tracked_corrects_that_track_and_only_a_current_preview_counts()
    {
        using var app = Learned();
        using var client = app.Client();
        var sid = (await Wire.InitAsync(client, swan.Path))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 0, points = new[] { new { x = 272.0 / 854, y = 319.0 / 480 } } })).Ok();
        var res = (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok().Data["res"]!;
        var frames = JsonNode.Parse(await Wire.DownloadAsync(client, res["tracking_output"]!.GetValue<string>()))!["frames"]!.AsArray();
        var trackedCounts = frames[30]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>();
        var tracked = CocoRle.Decode(480, 854, trackedCounts);

        // A click inside what the preview showed on frame 30, which nobody marked.
        using var trackedMat = Roto.Vision.MaskMats.ToMat(tracked);
        using var distance = new Mat();
        Cv2.DistanceTransform(trackedMat, distance, DistanceTypes.L2, DistanceTransformMasks.Mask5);
        Cv2.MinMaxLoc(distance, out _, out _, out _, out Point inside);
        var point = new { x = (inside.X + 0.5) / 854, y = (inside.Y + 0.5) / 480 };
        var mended = MaskOf((await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 30, points = new[] { point } })).Ok().Data["res"]!, 0);

        Assert.Equal(trackedCounts, FrameMask(app, sid, 30).PriorCounts);
        Assert.True(mended.IoU(tracked) >= 0.8, $"the correction replaced the track's mask instead of refining it: IoU {mended.IoU(tracked):0.000}");
        Assert.True(mended.IoU(Swan.Truth(30)) >= 0.7, $"IoU with the ground truth {mended.IoU(Swan.Truth(30)):0.000}");

        // The preview is now out of date: a first click on another frame starts from nothing.
        (await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 40, points = new[] { point } })).Ok();
        Assert.Null(FrameMask(app, sid, 40).PriorCounts);

        // Deleting the click takes the frame's mask, prior and all.
        var after = (await Wire.PostAsync(client, $"{B}/delete-selection",
            new { session_id = sid, frame_index = 30, points = new[] { point } })).Ok().Data["res"]!;
        Assert.Empty(after["rle_mask_list"]!.AsArray());
        using var scope = app.Services.CreateScope();
        Assert.False(scope.ServiceProvider.GetRequiredService<Roto.Core.Data.RotoDb>().FrameMasks.Any(m => m.SessionId == sid && m.FrameIndex == 30));
    }

    private static Roto.Core.Data.FrameMaskRecord FrameMask(RotoApp app, string sessionId, int frameIndex)
    {
        using var scope = app.Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<Roto.Core.Data.RotoDb>().FrameMasks.Single(m => m.SessionId == sessionId && m.FrameIndex == frameIndex);
    }

    [Fact]
    public async Task An_empty_models_folder_serves_the_classical_engines_and_says_so()
    {
        var empty = TestData.TempDir("roto-no-models");
        using var app = Learned(new() { ["Roto:Models:Dir"] = empty });
        using var client = app.Client();

        var engines = JsonNode.Parse(await client.GetStringAsync("/health"))!["engines"]!;
        Assert.Equal("classical", engines["kind"]!.GetValue<string>());
        Assert.Contains("not found", engines["reason"]!.GetValue<string>());
        Assert.IsNotType<SamClickSegmenter>(app.Services.GetRequiredService<IClickSegmenter>());
        Assert.Null(((FlowColourPropagator)app.Services.GetRequiredService<IMaskPropagator>()).Anchor);

        var sid = (await Wire.InitAsync(client, swan.Path))["session_id"]!.GetValue<string>();
        var click = (await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 0, points = new[] { new { x = 272.0 / 854, y = 319.0 / 480 } } })).Ok().Data["res"]!;
        Assert.True(MaskOf(click, 0).Area() > 1000);
    }

    [Fact]
    public async Task A_corrupt_model_file_leaves_the_server_up_on_the_classical_engines_naming_the_file()
    {
        var dir = TestData.TempDir("roto-bad-models");
        var real = SamModelFiles.In(ModelsDir.Resolve(null));
        var copy = SamModelFiles.In(dir);
        File.Copy(real.Encoder, copy.Encoder);
        File.Copy(real.Saliency, copy.Saliency);
        File.WriteAllBytes(copy.Decoder, "not an onnx model"u8.ToArray());
        using var app = Learned(new() { ["Roto:Models:Dir"] = dir });
        using var client = app.Client();

        var engines = JsonNode.Parse(await client.GetStringAsync("/health"))!["engines"]!;
        Assert.Equal("classical", engines["kind"]!.GetValue<string>());
        Assert.Contains("sam-decoder.onnx", engines["reason"]!.GetValue<string>());
        var sid = (await Wire.InitAsync(client, swan.Path))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection",
            new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.6 } } })).Ok();
    }
}
