using System.Buffers.Binary;
using System.Text;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>One test per wire rule: each fails if the rule goes.</summary>
public sealed class ValidationTests : IClassFixture<ValidationTests.App>, IDisposable
{
    public sealed class App : IDisposable
    {
        public RotoApp Roto { get; } = new(new() { ["Roto:Limits:MaxConcurrentTasks"] = "50" });
        private string? _session;
        private readonly SemaphoreSlim _gate = new(1, 1);

        /// <summary>One session with a selection on frame 0, shared by the tests that need one.</summary>
        public async Task<string> SessionAsync()
        {
            await _gate.WaitAsync();
            try
            {
                if (_session != null) return _session;
                using var client = Roto.Client();
                var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
                (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
                return _session = sid;
            }
            finally { _gate.Release(); }
        }

        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";
    private readonly App _app;
    private readonly HttpClient _client;

    public ValidationTests(App app)
    {
        _app = app;
        _client = app.Roto.Client();
    }

    public void Dispose() => _client.Dispose();

    // --- envelope, JSON, methods ---

    [Fact]
    public async Task Malformed_json_is_1200() =>
        (await Wire.PostAsync(_client, $"{B}/init-selection", "{\"video_url\": ")).Error(400, 1200);

    [Fact]
    public async Task A_body_that_is_not_an_object_is_1200() =>
        (await Wire.PostAsync(_client, $"{B}/clear-selection", "[1,2]")).Error(400, 1200);

    [Fact]
    public async Task Wrong_method_is_404_1202()
    {
        using var response = await _client.GetAsync($"{B}/init-selection");
        (await Wire.ReadAsync(response)).Error(404, 1202);
        using var put = await _client.PutAsync(B, new StringContent("{}", Encoding.UTF8, "application/json"));
        (await Wire.ReadAsync(put)).Error(404, 1202);
    }

    [Fact]
    public async Task Unknown_task_is_404_1203() =>
        (await Wire.GetAsync(_client, $"{B}/123456789012345678")).Error(404, 1203);

    [Fact]
    public async Task Unknown_session_is_404_1203() =>
        (await Wire.PostAsync(_client, $"{B}/preview-selection", new { session_id = "123456789012345678" })).Error(404, 1203);

    // --- init-selection ---

    [Fact]
    public async Task Init_needs_video_id_or_video_url() =>
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_id = "", video_url = "" })).Error(400, 1201, "video_id or video_url");

    [Fact]
    public async Task Init_refuses_both_video_id_and_video_url() =>
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_id = "1", video_url = "https://example.com/a.mp4" })).Error(400, 1201, "only one");

    [Fact]
    public async Task Init_refuses_a_non_http_url() =>
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_url = "file:///etc/passwd" })).Error(400, 1201, "video_url");

    [Fact]
    public async Task Init_refuses_an_unknown_video_id() =>
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_id = "999999999999999999" })).Error(404, 1203, "video_id");

    [Fact]
    public async Task Init_refuses_a_duration_between_the_two_ranges()
    {
        var url = (await Wire.UploadAsync(_client, Videos.Sized(1280, 720, 6, "24", "six-seconds.mp4"))).Ok().Data["url"]!.GetValue<string>();
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_url = url })).Error(400, 1201, "duration");
    }

    [Fact]
    public async Task Init_refuses_a_video_below_720_px() 
    {
        var url = (await Wire.UploadAsync(_client, Videos.Sized(640, 480, 2.5, "24", "small.mp4"))).Ok().Data["url"]!.GetValue<string>();
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_url = url })).Error(400, 1201, "720");
    }

    [Fact]
    public async Task Init_refuses_25_fps_under_the_kling_profile()
    {
        var url = (await Wire.UploadAsync(_client, Videos.Sized(1280, 720, 2.5, "25", "25fps.mp4"))).Ok().Data["url"]!.GetValue<string>();
        (await Wire.PostAsync(_client, $"{B}/init-selection", new { video_url = url })).Error(400, 1201, "frame rate");
    }

    [Fact]
    public async Task An_upload_of_text_named_mp4_is_refused_naming_what_it_is()
    {
        var path = Path.Combine(TestData.TempDir(), "notes.mp4");
        await File.WriteAllTextAsync(path, "this is not a video at all");
        (await Wire.UploadAsync(_client, path)).Error(400, 1201, "file is text, not a video (mp4, mov");
    }

    /// <summary>
    /// Each file is sent under a name that says nothing (upload.dat): the type and the URL's extension come from its
    /// bytes. Before, everything but png/jpeg was labelled video/mp4, with a .bin URL for unknown names.
    /// </summary>
    [Theory]
    [InlineData("mp4", "libx264", "video/mp4", ".mp4")]
    [InlineData("mov", "libx264", "video/quicktime", ".mov")]
    [InlineData("webm", "libvpx", "video/webm", ".webm")]
    [InlineData("matroska", "libx264", "video/x-matroska", ".mkv")]
    [InlineData("avi", "mpeg4", "video/x-msvideo", ".avi")]
    [InlineData("image2", "png", "image/png", ".png")]
    [InlineData("image2", "mjpeg", "image/jpeg", ".jpg")]
    [InlineData("image2", "libwebp", "image/webp", ".webp")]
    [InlineData("gif", "gif", "image/gif", ".gif")]
    [InlineData("image2", "bmp", "image/bmp", ".bmp")]
    public async Task An_upload_reports_the_type_its_bytes_show_and_keeps_its_extension(string muxer, string codec, string contentType, string extension)
    {
        var path = Path.Combine(TestData.TempDir(), "upload.dat");
        var frames = muxer == "image2" ? (string[])["-frames:v", "1", "-update", "1"] : ["-t", "0.4"];
        var pixels = muxer is "image2" or "gif" ? (string[])[] : ["-pix_fmt", "yuv420p"];
        TestData.Ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", .. frames, "-c:v", codec, .. pixels, "-f", muxer, path]);

        var data = (await Wire.UploadAsync(_client, path)).Ok().Data;

        Assert.Equal(contentType, data["content_type"]!.GetValue<string>());
        Assert.EndsWith(extension, new Uri(data["url"]!.GetValue<string>()).AbsolutePath);
    }

    [Fact]
    public async Task Init_accepts_a_29_97_fps_clip_and_reports_it_exactly()
    {
        var data = await Wire.InitAsync(_client, Videos.Sized(1280, 720, 2.5, "30000/1001", "ntsc.mp4"));
        Assert.Equal(29.97, data["fps"]!.GetValue<double>());
        Assert.Equal(75, data["total_frame"]!.GetValue<int>());
    }

    // --- add / delete selection ---

    [Fact]
    public async Task Add_needs_session_id() =>
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Error(400, 1201, "session_id");

    [Fact]
    public async Task Add_needs_points()
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = Array.Empty<object>() })).Error(400, 1201, "points");
    }

    /// <summary>Both ends name the session's own frames (60 frames: 0..59); -1 used to name 0..2147483647.</summary>
    [Theory]
    [InlineData(60)]
    [InlineData(-1)]
    public async Task A_frame_index_outside_the_video_names_the_session_s_frames(int frameIndex)
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = frameIndex, points = new[] { new { x = 0.5, y = 0.5 } } }))
            .Error(400, 1201, $"frame_index must be between 0 and 59 (got {frameIndex})");
        (await Wire.PostAsync(_client, $"{B}/delete-selection", new { session_id = sid, frame_index = frameIndex, points = new[] { new { x = 0.5, y = 0.5 } } }))
            .Error(400, 1201, $"frame_index must be between 0 and 59 (got {frameIndex})");
    }

    /// <summary>A value of the wrong type is a type error whatever it spells; "NaN" used to be reported as out of range.</summary>
    [Theory]
    [InlineData("\"x\":\"NaN\",\"y\":0.5", "points[0].x must be a number")]
    [InlineData("\"x\":0.5,\"y\":\"Infinity\"", "points[0].y must be a number")]
    [InlineData("\"x\":true,\"y\":0.5", "points[0].x must be a number")]
    [InlineData("\"x\":0.5,\"y\":0.5,\"label\":\"one\"", "points[0].label must be an integer")]
    public async Task A_value_of_the_wrong_type_is_named_as_such(string point, string message)
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", $"{{\"session_id\":\"{sid}\",\"frame_index\":0,\"points\":[{{{point}}}]}}")).Error(400, 1201, message);
    }

    [Fact]
    public async Task A_frame_index_of_the_wrong_type_is_named_as_such()
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", $"{{\"session_id\":\"{sid}\",\"frame_index\":\"first\",\"points\":[{{\"x\":0.5,\"y\":0.5}}]}}"))
            .Error(400, 1201, "frame_index must be an integer");
    }

    [Theory]
    [InlineData(1.2, 0.5, "points[0].x")]
    [InlineData(0.5, -0.1, "points[0].y")]
    public async Task Add_refuses_coordinates_outside_0_1(double x, double y, string field)
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x, y } } })).Error(400, 1201, field);
    }

    [Fact]
    public async Task Add_refuses_a_string_coordinate_that_is_not_a_number()
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", $"{{\"session_id\":\"{sid}\",\"frame_index\":0,\"points\":[{{\"x\":\"left\",\"y\":0.5}}]}}")).Error(400, 1201, "points[0].x");
    }

    [Fact]
    public async Task Add_refuses_more_than_10_points_on_a_frame()
    {
        var sid = (await Wire.InitAsync(_client, Videos.Short720))["session_id"]!.GetValue<string>();
        var points = Enumerable.Range(0, 11).Select(i => new { x = 0.05 + i * 0.08, y = 0.5 }).ToArray();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points })).Error(400, 1201, "10 points");
        // Ten in two requests is fine; the eleventh across requests is not.
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = points[..5] })).Ok();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = points[5..10] })).Ok();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = points[10..] })).Error(400, 1201, "10 points");
    }

    [Fact]
    public async Task Add_refuses_an_eleventh_marked_frame_and_delete_frees_one()
    {
        var sid = (await Wire.InitAsync(_client, Videos.Short720))["session_id"]!.GetValue<string>();
        for (var f = 0; f < 10; f++)
            (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = f * 5, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 51, points = new[] { new { x = 0.5, y = 0.5 } } })).Error(400, 1201, "10 frames");
        (await Wire.PostAsync(_client, $"{B}/delete-selection", new { session_id = sid, frame_index = 45, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 51, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
    }

    [Fact]
    public async Task Delete_refuses_points_that_were_not_added()
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/delete-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.123, y = 0.5 } } })).Error(400, 1201, "points[0]");
    }

    [Fact]
    public async Task Label_must_be_0_or_1()
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5, label = 2 } } })).Error(400, 1201, "label");
    }

    [Fact]
    public async Task Object_id_must_not_be_negative()
    {
        var sid = await _app.SessionAsync();
        (await Wire.PostAsync(_client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, object_id = -1, points = new[] { new { x = 0.5, y = 0.5 } } })).Error(400, 1201, "object_id");
    }

    // --- create task ---

    private async Task<Wire.Reply> CreateAsync(Dictionary<string, object?> fields)
    {
        var body = new Dictionary<string, object?> { ["session_id"] = await _app.SessionAsync(), ["edit_mode"] = "removal", ["prompt"] = "Delete it from <<<video_1>>>" };
        foreach (var (k, v) in fields) body[k] = v;
        return await Wire.PostAsync(_client, B, body);
    }

    private static string Png(int w, int h)
    {
        var path = Path.Combine(TestData.TempDir(), "ref.png");
        TestData.Ffmpeg("-f", "lavfi", "-i", $"color=c=red:s={w}x{h}", "-frames:v", "1", path);
        return Convert.ToBase64String(File.ReadAllBytes(path));
    }

    [Fact] public async Task Create_needs_session_id() => (await CreateAsync(new() { ["session_id"] = "" })).Error(400, 1201, "session_id");
    [Fact] public async Task Create_needs_a_known_edit_mode() => (await CreateAsync(new() { ["edit_mode"] = "replace" })).Error(400, 1201, "edit_mode");
    [Fact] public async Task Create_needs_a_prompt() => (await CreateAsync(new() { ["prompt"] = "" })).Error(400, 1201, "prompt");
    [Fact] public async Task Create_limits_the_prompt_to_2500_characters() => (await CreateAsync(new() { ["prompt"] = new string('a', 2501) })).Error(400, 1201, "prompt");
    [Fact] public async Task Create_limits_the_negative_prompt_to_2500_characters() => (await CreateAsync(new() { ["negative_prompt"] = new string('a', 2501) })).Error(400, 1201, "negative_prompt");
    [Fact] public async Task Create_checks_model_name() => (await CreateAsync(new() { ["model_name"] = "kling-v9" })).Error(400, 1201, "model_name");
    [Fact] public async Task Create_checks_mode() => (await CreateAsync(new() { ["mode"] = "ultra" })).Error(400, 1201, "mode");
    [Fact] public async Task Create_checks_duration() => (await CreateAsync(new() { ["duration"] = "7" })).Error(400, 1201, "duration");
    [Fact] public async Task Create_checks_duration_against_the_video() => (await CreateAsync(new() { ["duration"] = "10" })).Error(400, 1201, "duration");
    [Fact] public async Task Create_checks_cfg_scale() => (await CreateAsync(new() { ["cfg_scale"] = 1.5 })).Error(400, 1201, "cfg_scale");
    [Fact] public async Task Create_checks_aspect_ratio() => (await CreateAsync(new() { ["aspect_ratio"] = "4:3" })).Error(400, 1201, "aspect_ratio");
    [Fact] public async Task Create_checks_camera_control_type() => (await CreateAsync(new() { ["camera_control"] = new { type = "spin" } })).Error(400, 1201, "camera_control.type");
    [Fact] public async Task Create_checks_camera_control_config() => (await CreateAsync(new() { ["camera_control"] = new { type = "simple", config = new { zoom = 11 } } })).Error(400, 1201, "camera_control.config.zoom");
    [Fact] public async Task Create_checks_callback_url() => (await CreateAsync(new() { ["callback_url"] = "ftp://x" })).Error(400, 1201, "callback_url");
    [Fact] public async Task Create_checks_watermark_info() => (await CreateAsync(new() { ["watermark_info"] = new { enabled = "yes" } })).Error(400, 1201, "watermark_info.enabled");
    [Fact] public async Task Removal_takes_no_images() => (await CreateAsync(new() { ["image_list"] = new[] { new { image = Png(400, 400) } } })).Error(400, 1201, "image_list");
    [Fact] public async Task Swap_needs_exactly_one_image() => (await CreateAsync(new() { ["edit_mode"] = "swap" })).Error(400, 1201, "image_list");
    [Fact] public async Task Addition_needs_one_or_two_images() => (await CreateAsync(new() { ["edit_mode"] = "addition", ["image_list"] = new[] { "a", "b", "c" } })).Error(400, 1201, "image_list");
    [Fact] public async Task Images_must_be_at_least_300_px() => (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { new { image = Png(299, 400) } } })).Error(400, 1201, "300");
    [Fact] public async Task Images_must_have_a_sane_aspect_ratio() => (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { new { image = Png(1200, 400) } } })).Error(400, 1201, "aspect");
    [Fact] public async Task Images_must_be_jpg_or_png() => (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { Convert.ToBase64String(Encoding.ASCII.GetBytes("GIF89a not really")) } })).Error(400, 1201, "jpg or png");
    [Fact] public async Task Images_must_be_base64_or_a_url() => (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { "%%%not base64%%%" } })).Error(400, 1201, "image_list[0]");

    [Fact]
    public async Task A_png_claiming_30000_by_30000_pixels_is_refused_unallocated()
    {
        var bomb = BombPng(30000, 30000);
        (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { Convert.ToBase64String(bomb) } })).Error(400, 1201, "30000");
        var path = Path.Combine(TestData.TempDir(), "bomb.png");
        await File.WriteAllBytesAsync(path, bomb);
        (await Wire.UploadAsync(_client, path)).Error(400, 1201, "30000");
    }

    [Fact]
    public async Task Removal_needs_a_selection()
    {
        var sid = (await Wire.InitAsync(_client, Videos.Short720))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(_client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Error(400, 1201, "add-selection");
    }

    [Fact]
    public async Task External_task_id_is_unique_per_account_and_finds_the_task()
    {
        var ext = $"ext-{Guid.NewGuid():N}";
        var created = (await CreateAsync(new() { ["external_task_id"] = ext })).Ok().Data;
        Assert.Equal(ext, created["task_info"]!["external_task_id"]!.GetValue<string>());
        (await CreateAsync(new() { ["external_task_id"] = ext })).Error(400, 1201, "external_task_id");
        var byPath = (await Wire.GetAsync(_client, $"{B}/{ext}")).Ok().Data;
        Assert.Equal(created["task_id"]!.GetValue<string>(), byPath["task_id"]!.GetValue<string>());
        var byQuery = (await Wire.GetAsync(_client, $"{B}?external_task_id={ext}")).Ok().Data;
        Assert.Equal(created["task_id"]!.GetValue<string>(), byQuery["task_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Image_list_accepts_objects_and_plain_strings()
    {
        var png = Png(400, 400);
        (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { new { image = png } } })).Ok();
        (await CreateAsync(new() { ["edit_mode"] = "swap", ["image_list"] = new[] { png } })).Ok();
    }

    [Theory]
    [InlineData("pageNum=0")]
    [InlineData("pageNum=1001")]
    [InlineData("pageSize=0")]
    [InlineData("pageSize=501")]
    [InlineData("pageSize=abc")]
    public async Task List_checks_its_paging(string query) =>
        (await Wire.GetAsync(_client, $"{B}?{query}")).Error(400, 1201, query.Split('=')[0]);

    /// <summary>A valid PNG header (signature + IHDR) that claims a huge size and has no pixel data.</summary>
    public static byte[] BombPng(int w, int h)
    {
        var bytes = new byte[33];
        new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 13);
        "IHDR"u8.CopyTo(bytes.AsSpan(12));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), w);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), h);
        bytes[24] = 8; bytes[25] = 2;
        return bytes;
    }
}
