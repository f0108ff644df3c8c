using System.Text.Json.Nodes;
using Roto.Masks;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>The whole workflow, as a Kling client runs it, on both prefixes and on a real clip.</summary>
public sealed class WorkflowTests : IClassFixture<WorkflowTests.App>, IDisposable
{
    public sealed class App : IDisposable
    {
        public RotoApp Roto { get; } = new();
        public void Dispose() => Roto.Dispose();
    }

    private readonly RotoApp _app;
    private readonly HttpClient _client;

    public WorkflowTests(App app)
    {
        _app = app.Roto;
        _client = _app.Client();
    }

    public void Dispose() => _client.Dispose();

    [Theory]
    [InlineData("/v1")]
    [InlineData("/kling/v1")]
    public async Task Whole_flow_works_under_both_prefixes(string prefix)
    {
        var b = $"{prefix}/videos/multi-elements";
        var session = await Wire.InitAsync(_client, Videos.Short720, prefix);
        var sid = session["session_id"]!.GetValue<string>();
        Assert.Matches("^[0-9]{18,19}$", sid);
        Assert.Equal(1280, session["width"]!.GetValue<int>());
        Assert.Equal(720, session["height"]!.GetValue<int>());
        Assert.Equal(24.0, session["fps"]!.GetValue<double>());
        Assert.Equal(60, session["total_frame"]!.GetValue<int>());
        Assert.InRange(session["original_duration"]!.GetValue<long>(), 2450, 2550);

        var add = (await Wire.PostAsync(_client, $"{b}/add-selection", new { session_id = sid, frame_index = 10, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok().Data;
        AssertSelectionShape(add, sid, 10, expectObjects: 1);
        var del = (await Wire.PostAsync(_client, $"{b}/delete-selection", new { session_id = sid, frame_index = 10, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok().Data;
        AssertSelectionShape(del, sid, 10, expectObjects: 0);
        var clear = (await Wire.PostAsync(_client, $"{b}/clear-selection", new { session_id = sid })).Ok().Data;
        Assert.Equal(sid, clear["session_id"]!.GetValue<string>());
        Assert.Null(clear["res"]);
        (await Wire.PostAsync(_client, $"{b}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();

        var preview = (await Wire.PostAsync(_client, $"{b}/preview-selection", new { session_id = sid })).Ok().Data;
        var res = preview["res"]!;
        var overlay = await Wire.DownloadAsync(_client, res["video"]!.GetValue<string>());
        Assert.True(overlay.Length > 1000);
        var cover = await Wire.DownloadAsync(_client, res["video_cover"]!.GetValue<string>());
        Assert.Equal(0xFF, cover[0]); Assert.Equal(0xD8, cover[1]); // JPEG

        var created = (await Wire.PostAsync(_client, b, new
        {
            model_name = "kling-v1-6", session_id = sid, edit_mode = "removal", image_list = Array.Empty<object>(),
            prompt = "Delete the square from <<<video_1>>>", negative_prompt = "", mode = "std", duration = "5", callback_url = "", external_task_id = "",
        })).Ok().Data;
        Assert.Equal("submitted", created["task_status"]!.GetValue<string>());
        var taskId = created["task_id"]!.GetValue<string>();
        Assert.Matches("^[0-9]{18,19}$", taskId);

        var done = await Wire.WaitForTaskAsync(_client, taskId, TimeSpan.FromMinutes(4), prefix);
        Assert.Equal("succeed", done["task_status"]!.GetValue<string>());
        Assert.Equal(100, done["task_progress"]!.GetValue<int>());
        var video = done["task_result"]!["videos"]![0]!;
        Assert.Equal(sid, video["session_id"]!.GetValue<string>());
        Assert.Equal("2.5", video["duration"]!.GetValue<string>());

        var result = await Wire.DownloadAsync(_client, video["url"]!.GetValue<string>());
        await AssertPlayableAsync(result, 1280, 720, 60);

        var listed = (await Wire.GetAsync(_client, $"{b}?pageNum=1&pageSize=500")).Ok().Data.AsArray();
        Assert.Contains(listed, t => t!["task_id"]!.GetValue<string>() == taskId);
    }

    [Fact]
    public async Task Real_clip_flow_with_curl_steps_gives_an_h264_result_of_the_same_size_and_frame_count()
    {
        var b = "/v1/videos/multi-elements";
        var session = await Wire.InitAsync(_client, TestData.Clip("01_dog.mp4"));
        var sid = session["session_id"]!.GetValue<string>();
        var total = session["total_frame"]!.GetValue<int>();
        Assert.Equal(289, total);
        Assert.Equal(29.97, session["fps"]!.GetValue<double>());
        Assert.Equal(9664, session["original_duration"]!.GetValue<long>());

        // The normalized video decodes to exactly total_frame frames.
        var normalized = Path.Combine(_app.DataDir, "check.mp4");
        await File.WriteAllBytesAsync(normalized, await Wire.DownloadAsync(_client, session["normalized_video"]!.GetValue<string>()));
        using (var reader = new VideoFrameReader(new MediaTools(), normalized, 160, 90, gray: true))
            Assert.Equal(total, reader.Frames().Select(f => { f.Dispose(); return 1; }).Sum());

        // The dog on frame 0 is around (0.49, 0.64) of the frame.
        var add = (await Wire.PostAsync(_client, $"{b}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.49, y = 0.64 } } })).Ok().Data;
        var mask = DecodeFirst(add);
        Assert.True(mask[(int)(0.49 * 1280), (int)(0.64 * 720)], "the mask covers the clicked point");
        Assert.InRange(mask.Area(), 1000, 1280 * 720 / 3);

        var created = (await Wire.PostAsync(_client, b, new { session_id = sid, edit_mode = "removal", prompt = "Delete the dog from <<<video_1>>>", watermark_info = new { enabled = true } })).Ok().Data;
        var done = await Wire.WaitForTaskAsync(_client, created["task_id"]!.GetValue<string>(), TimeSpan.FromMinutes(8));
        Assert.Equal("succeed", done["task_status"]!.GetValue<string>());
        var video = done["task_result"]!["videos"]![0]!;
        await AssertPlayableAsync(await Wire.DownloadAsync(_client, video["url"]!.GetValue<string>()), 1280, 720, total);
        await AssertPlayableAsync(await Wire.DownloadAsync(_client, video["watermark_url"]!.GetValue<string>()), 1280, 720, total);
    }

    internal static BinaryMask DecodeFirst(JsonNode selectionData)
    {
        var item = selectionData["res"]!["rle_mask_list"]![0]!;
        var size = item["rle_mask"]!["size"]!.AsArray();
        return CocoRle.Decode(size[0]!.GetValue<int>(), size[1]!.GetValue<int>(), item["rle_mask"]!["counts"]!.GetValue<string>());
    }

    internal static void AssertSelectionShape(JsonNode data, string sid, int frame, int expectObjects)
    {
        Assert.Equal(0, data["status"]!.GetValue<int>());
        Assert.Equal(sid, data["session_id"]!.GetValue<string>());
        Assert.Equal("0", data["final_unit_deduction"]!.GetValue<string>());
        Assert.Equal("succeed", data["task_status"]!.GetValue<string>());
        Assert.Matches("^[0-9]{18,19}$", data["task_id"]!.GetValue<string>());
        Assert.True(data["created_at"]!.GetValue<long>() > 1_700_000_000_000);
        Assert.True(data["updated_at"]!.GetValue<long>() > 1_700_000_000_000);
        Assert.Equal(frame, data["res"]!["frame_index"]!.GetValue<int>());
        var list = data["res"]!["rle_mask_list"]!.AsArray();
        Assert.Equal(expectObjects, list.Count);
        foreach (var item in list)
        {
            var rle = item!["rle_mask"]!;
            var png = item["png_mask"]!;
            Assert.Equal("[720,1280]", rle["size"]!.ToJsonString());
            Assert.Equal("[720,1280]", png["size"]!.ToJsonString());
            var fromRle = CocoRle.Decode(720, 1280, rle["counts"]!.GetValue<string>());
            var fromPng = MaskPng.Decode(Convert.FromBase64String(png["base64"]!.GetValue<string>()));
            Assert.True(fromRle.SameAs(fromPng), "png_mask and rle_mask decode to the same pixels");
        }
    }

    internal static async Task AssertPlayableAsync(byte[] mp4, int width, int height, int frames)
    {
        var path = Path.Combine(TestData.TempDir(), "result.mp4");
        await File.WriteAllBytesAsync(path, mp4);
        var probe = new Ffprobe(new MediaTools());
        var info = await probe.ProbeAsync(path);
        Assert.Equal("h264", info.VideoCodec);
        Assert.Equal("yuv420p", info.PixelFormat);
        Assert.Equal(width, info.Width);
        Assert.Equal(height, info.Height);
        Assert.Equal(frames, await probe.CountFramesAsync(path));
    }
}
