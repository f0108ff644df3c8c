using System.Text.Json;
using System.Text.Json.Nodes;

namespace Roto.Client.Tests;

/// <summary>The client's types read and write the shapes of the wire contract's examples.</summary>
public class WireShapeTests
{
    [Fact]
    public void Create_task_request_serializes_to_the_documented_field_names()
    {
        var request = new CreateTaskRequest
        {
            ModelName = "kling-v1-6",
            SessionId = "847570360458960960",
            EditMode = EditModes.Addition,
            ImageList = [new TaskImage("https://example.com/cat.png")],
            Prompt = "Using the context of <<<video_1>>>, seamlessly add the cat from <<<image_1>>>",
            NegativePrompt = "blur",
            Mode = "std",
            Duration = "5",
            WatermarkInfo = new WatermarkInfo(false),
            CallbackUrl = "https://example.com/hook",
            ExternalTaskId = "my-id-001",
            Placement = new Placement(0.25, 0.75, 0.3),
        };

        var json = JsonSerializer.SerializeToNode(request, RotoJson.Options)!.AsObject();

        Assert.Equal(
            ["model_name", "session_id", "edit_mode", "image_list", "prompt", "negative_prompt", "mode", "duration",
             "watermark_info", "callback_url", "external_task_id", "placement"],
            json.Select(p => p.Key).ToArray());
        Assert.Equal("https://example.com/cat.png", json["image_list"]![0]!["image"]!.GetValue<string>());
        Assert.False(json["watermark_info"]!["enabled"]!.GetValue<bool>());
        Assert.Equal(0.3, json["placement"]!["scale"]!.GetValue<double>());
        Assert.Equal("5", json["duration"]!.GetValue<string>());
    }

    [Fact]
    public void Unset_optional_fields_are_left_out()
    {
        var json = JsonSerializer.Serialize(new CreateTaskRequest { SessionId = "1", EditMode = EditModes.Removal, Prompt = "Delete it from <<<video_1>>>" }, RotoJson.Options);

        Assert.Equal("""{"session_id":"1","edit_mode":"removal","prompt":"Delete it from \u003C\u003C\u003Cvideo_1\u003E\u003E\u003E"}""", json);
    }

    [Fact]
    public void Selection_request_matches_the_documented_example_plus_extensions()
    {
        var plain = new SelectionRequest { SessionId = "847570360458960960", FrameIndex = 0, Points = [SelectionPoint.Include(0.7738498789346246, 0.297142857142857)] };
        var extended = plain with { ObjectId = 2, Points = [SelectionPoint.Include(0.5, 0.5), SelectionPoint.Exclude(0.1, 0.2)] };

        Assert.Equal("""{"session_id":"847570360458960960","frame_index":0,"points":[{"x":0.7738498789346246,"y":0.297142857142857}]}""",
            JsonSerializer.Serialize(plain, RotoJson.Options));
        Assert.Equal("""{"session_id":"847570360458960960","frame_index":0,"points":[{"x":0.5,"y":0.5},{"x":0.1,"y":0.2,"label":0}],"object_id":2}""",
            JsonSerializer.Serialize(extended, RotoJson.Options));
    }

    [Fact]
    public void Init_selection_answer_is_read()
    {
        var envelope = Read<InitSelectionResult>("""
            {"code":0,"message":"SUCCEED","request_id":"3d67a2e2-cec7-4571-ba0d-556668ff7e82",
             "data":{"status":0,"session_id":"847570360458960960","final_unit_deduction":"0","fps":30.0,"original_duration":5000,
                     "width":1280,"height":720,"total_frame":150,"normalized_video":"https://cdn.example.com/normalized/847570360458960960.mp4"}}
            """);

        Assert.Equal(0, envelope.Code);
        Assert.Equal("3d67a2e2-cec7-4571-ba0d-556668ff7e82", envelope.RequestId);
        var data = envelope.Data!;
        Assert.Equal(("847570360458960960", 30.0, 5000L, 1280, 720, 150), (data.SessionId, data.Fps, data.OriginalDuration, data.Width, data.Height, data.TotalFrame));
        Assert.EndsWith("847570360458960960.mp4", data.NormalizedVideo);
    }

    [Fact]
    public void Add_selection_answer_is_read_and_its_mask_decoded()
    {
        var rectangle = "Tg\\4X6X`" + new string('0', 598) + "lZTa0";
        var envelope = Read<SelectionResult>("""
            {"code":0,"message":"SUCCEED","request_id":"r",
             "data":{"status":0,"session_id":"847570360458960960","final_unit_deduction":"0","task_id":"1","task_status":"succeed",
                     "created_at":1722769557708,"updated_at":1722769557708,
                     "res":{"frame_index":0,"rle_mask_list":[{"object_id":0,"rle_mask":{"size":[720,1280],"counts":COUNTS},
                                                             "png_mask":{"size":[720,1280],"base64":"iVBORw0KGgo="}}]}}}
            """.Replace("COUNTS", JsonSerializer.Serialize(rectangle)));

        var mask = Assert.Single(envelope.Data!.Res!.RleMaskList);
        Assert.Equal([720, 1280], mask.RleMask!.Size);
        Assert.Equal(200L * 300, mask.RleMask.SelectedPixels());
        Assert.Equal(601, mask.RleMask.DecodeRuns().Count);
        Assert.Equal(0x89, mask.PngMask!.ToPngBytes()[0]);
        Assert.Equal("succeed", envelope.Data.TaskStatus);
    }

    [Theory]
    [InlineData("5211010N4", new[] { 5, 2, 1, 3, 1, 4, 1, 2, 5 })]
    [InlineData("04", new[] { 0, 4 })]
    [InlineData("4", new[] { 4 })]
    [InlineData("024", new[] { 0, 2, 4 })]
    public void Rle_counts_decode_to_the_contracts_test_vectors(string counts, int[] runs) =>
        Assert.Equal(runs, new RleMask { Counts = counts }.DecodeRuns());

    [Fact]
    public void Preview_answer_is_read()
    {
        var data = Read<PreviewResult>("""
            {"code":0,"message":"SUCCEED","request_id":"r","data":{"status":0,"session_id":"847570360458960960","final_unit_deduction":"0",
             "res":{"video":"https://x/masked.mp4","video_cover":"https://x/masked_cover.jpg","tracking_output":"https://x/tracking_output"}}}
            """).Data!;

        Assert.Equal(("https://x/masked.mp4", "https://x/masked_cover.jpg", "https://x/tracking_output"), (data.Res!.Video, data.Res.VideoCover, data.Res.TrackingOutput));
    }

    [Fact]
    public void Task_query_answer_is_read()
    {
        var task = Read<EditTask>("""
            {"code":0,"message":"SUCCEED","request_id":"r","data":{"task_id":"867283741759111202","task_status":"succeed","task_status_msg":"",
             "task_info":{"external_task_id":"my-id-001"},
             "task_result":{"videos":[{"id":"867283741759111203","session_id":"847570360458960960","url":"https://cdn.example.com/out.mp4",
                                       "watermark_url":"https://cdn.example.com/out_wm.mp4","duration":"5.1"}]},
             "watermark_info":{"enabled":false},"final_unit_deduction":"3","created_at":1722769557708,"updated_at":1722769612345,"task_progress":100}}
            """).Data!;

        Assert.True(task.IsFinished);
        Assert.Equal("https://cdn.example.com/out.mp4", task.ResultUrl);
        Assert.Equal("my-id-001", task.TaskInfo!.ExternalTaskId);
        Assert.Equal("5.1", task.TaskResult!.Videos[0].Duration);
        Assert.Equal(100, task.TaskProgress);
        Assert.Equal(1722769612345, task.UpdatedAt);
    }

    [Fact]
    public void Task_list_is_an_array_of_task_objects()
    {
        var tasks = Read<IReadOnlyList<EditTask>>("""
            {"code":0,"message":"SUCCEED","request_id":"r","data":[{"task_id":"2","task_status":"processing","task_progress":40,"created_at":2,"updated_at":2},
                                                             {"task_id":"1","task_status":"submitted","created_at":1,"updated_at":1}]}
            """).Data!;

        Assert.Equal(["2", "1"], tasks.Select(t => t.TaskId));
        Assert.False(tasks[0].IsFinished);
        Assert.Null(tasks[1].ResultUrl);
    }

    [Fact]
    public void Error_envelope_has_no_data()
    {
        var envelope = Read<EditTask>("""{"code":1303,"message":"parallel task over resource pack limit","request_id":"abc"}""");

        Assert.Equal((1303, "abc"), (envelope.Code, envelope.RequestId));
        Assert.Null(envelope.Data);
    }

    private static Envelope<T> Read<T>(string json) => JsonSerializer.Deserialize<Envelope<T>>(json, RotoJson.Options)!;
}
