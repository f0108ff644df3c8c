using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Roto.Core.Maintenance;
using Roto.Masks;

namespace Roto.Server.Tests;

/// <summary>Selections, the preview's cache and tracking JSON, video ids, expiry.</summary>
public sealed class SessionTests(SessionTests.App app) : IClassFixture<SessionTests.App>
{
    public sealed class App : IDisposable
    {
        public RotoApp Roto { get; } = new();
        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";
    private readonly RotoApp _app = app.Roto;

    [Fact]
    public async Task Preview_is_computed_once_per_selection_state_and_the_tracking_json_has_every_frame()
    {
        using var client = _app.Client();
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Error(400, 1201, "add-selection");
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 5, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();

        var first = (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok().Data["res"]!;
        var again = (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok().Data["res"]!;
        Assert.Equal(first.ToJsonString(), again.ToJsonString());

        var tracking = JsonNode.Parse(await Wire.DownloadAsync(client, first["tracking_output"]!.GetValue<string>()))!;
        Assert.Equal(sid, tracking["session_id"]!.GetValue<string>());
        Assert.Equal(1280, tracking["width"]!.GetValue<int>());
        Assert.Equal(720, tracking["height"]!.GetValue<int>());
        Assert.Equal(24.0, tracking["fps"]!.GetValue<double>());
        Assert.Equal(60, tracking["total_frame"]!.GetValue<int>());
        var frames = tracking["frames"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 60), frames.Select(f => f!["frame_index"]!.GetValue<int>()));
        var marked = frames[5]!["rle_mask_list"]![0]!;
        Assert.Equal(0, marked["object_id"]!.GetValue<int>());
        Assert.Equal("[720,1280]", marked["rle_mask"]!["size"]!.ToJsonString());
        Assert.True(CocoRle.Decode(720, 1280, marked["rle_mask"]!["counts"]!.GetValue<string>()).Area() > 0);

        // A change of the selection makes a new preview.
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 5, points = new[] { new { x = 0.3, y = 0.3 } } })).Ok();
        var changed = (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok().Data["res"]!;
        Assert.NotEqual(first["video"]!.GetValue<string>(), changed["video"]!.GetValue<string>());
        (await Wire.PostAsync(client, $"{B}/clear-selection", new { session_id = sid })).Ok();
        (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Error(400, 1201, "add-selection");
    }

    [Fact]
    public async Task Exclude_points_and_object_ids_give_separate_masks_and_delete_recomputes_from_what_remains()
    {
        using var client = _app.Client();
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        var one = (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.3, y = 0.5 } } })).Ok().Data;
        var two = (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, object_id = 1, points = new[] { new { x = 0.7, y = 0.5 } } })).Ok().Data;
        var list = two["res"]!["rle_mask_list"]!.AsArray();
        Assert.Equal([0, 1], list.Select(m => m!["object_id"]!.GetValue<int>()));
        Assert.Equal(one["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>(), list[0]!["rle_mask"]!["counts"]!.GetValue<string>());

        var withExclude = (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.32, y = 0.5, label = 0 } } })).Ok().Data;
        var excluded = CocoRle.Decode(720, 1280, withExclude["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>());
        Assert.False(excluded[(int)(0.32 * 1280), 360], "an exclude point is never inside the mask");

        var back = (await Wire.PostAsync(client, $"{B}/delete-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.32, y = 0.5 } } })).Ok().Data;
        Assert.Equal(one["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>(),
            back["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>());
        WorkflowTests.AssertSelectionShape(back, sid, 0, expectObjects: 2);
    }

    [Fact]
    public async Task A_result_video_id_opens_a_new_session()
    {
        using var client = _app.Client();
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        var task = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Ok().Data["task_id"]!.GetValue<string>();
        var done = await Wire.WaitForTaskAsync(client, task, TimeSpan.FromMinutes(3));
        var videoId = done["task_result"]!["videos"]![0]!["id"]!.GetValue<string>();
        var again = (await Wire.PostAsync(client, $"{B}/init-selection", new { video_id = videoId, video_url = "" })).Ok().Data;
        Assert.Equal(60, again["total_frame"]!.GetValue<int>());
        using var other = _app.Client(RotoApp.KeyB);
        (await Wire.PostAsync(other, $"{B}/init-selection", new { video_id = videoId })).Error(404, 1203);
    }

    [Fact]
    public async Task Expired_sessions_are_swept_with_their_files()
    {
        using var app = new RotoApp(new() { ["Roto:SessionLifetime"] = "00:00:01" });
        using var client = app.Client();
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        var files = Directory.GetFiles(Path.Combine(app.DataDir, "files", "normalized"), "*", SearchOption.AllDirectories);
        Assert.Single(files);
        // Waits for the expiry itself (the session answering 404) rather than for a guess at how long it takes.
        var deadline = DateTime.UtcNow.AddMinutes(1);
        Wire.Reply reply;
        while ((reply = await Wire.PostAsync(client, $"{B}/clear-selection", new { session_id = sid })).Status == 200 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        reply.Error(404, 1203);
        await app.Services.GetRequiredService<Sweeper>().SweepAsync(CancellationToken.None);
        Assert.False(File.Exists(files[0]));
    }

    [Fact]
    public async Task File_urls_need_a_valid_signature_and_never_leave_the_files_folder()
    {
        using var client = _app.Client();
        var url = new Uri((await Wire.UploadAsync(client, Videos.Short720)).Ok().Data["url"]!.GetValue<string>());
        using (var ok = await client.GetAsync(url.PathAndQuery)) Assert.Equal(200, (int)ok.StatusCode);
        var tampered = url.PathAndQuery.Replace("sig=", "sig=0");
        (await Wire.ReadAsync(await client.GetAsync(tampered))).Error(404, 1203);
        (await Wire.ReadAsync(await client.GetAsync("/files/../roto.db?exp=9999999999&sig=00"))).Error(404, 1203);
        (await Wire.ReadAsync(await client.GetAsync("/files/%2e%2e/roto.db?exp=9999999999&sig=00"))).Error(404, 1203);
    }

    [Fact]
    public async Task Health_and_openapi_answer()
    {
        using var client = _app.CreateClient();
        Assert.Equal(200, (int)(await client.GetAsync("/health")).StatusCode);
        var doc = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        Assert.NotNull(doc["paths"]!["/v1/videos/multi-elements/init-selection"]);
        Assert.NotNull(doc["paths"]!["/kling/v1/videos/multi-elements/{id}"]);
    }

    /// <summary>
    /// The API reference is Roto's: titled "Roto" rather than after the assembly ("Roto.Server | v1"), and without
    /// Scalar's developer toolbar (Deploy, Generate SDK) or its AI chat, which sell Scalar's hosted services.
    /// </summary>
    [Fact]
    public async Task The_api_reference_is_titled_Roto_without_scalar_s_hosted_services()
    {
        using var client = _app.CreateClient();
        var doc = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var page = await client.GetStringAsync("/docs/");

        Assert.Equal("Roto", doc["info"]!["title"]!.GetValue<string>());
        Assert.Contains("<title>Roto</title>", page);
        Assert.Contains("\"showDeveloperTools\":\"never\"", page);
        Assert.Contains("\"agent\":{\"disabled\":true}", page);
    }
}
