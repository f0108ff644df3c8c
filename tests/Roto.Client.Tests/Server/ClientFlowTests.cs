using System.Net;

namespace Roto.Client.Tests.Server;

/// <summary>Every client call against the real server, on a short synthetic clip.</summary>
[Collection(ServerCollection.Name)]
public class ClientFlowTests(RotoServer server)
{
    [Fact]
    public async Task Every_call_works_against_the_server()
    {
        using var roto = server.CreateClient();
        Assert.True(await roto.IsHealthyAsync());

        var upload = await roto.UploadFileAsync(server.SyntheticClip);
        Assert.Equal(new FileInfo(server.SyntheticClip).Length, upload.Size);
        Assert.False(string.IsNullOrEmpty(upload.UploadId));

        var init = await roto.InitSelectionAsync(upload.Url);
        Assert.Equal((0, RotoServer.ClipWidth, RotoServer.ClipHeight, RotoServer.ClipFrames), (init.Status, init.Width, init.Height, init.TotalFrame));
        Assert.Equal(30, init.Fps, precision: 1);
        Assert.InRange(init.OriginalDuration, 950, 1050);

        var added = await roto.AddSelectionAsync(new SelectionRequest { SessionId = init.SessionId, FrameIndex = 10, Points = [SelectionPoint.Include(0.5, 0.5)] });
        var element = Assert.Single(added.Res!.RleMaskList);
        Assert.Equal((10, 0), (added.Res.FrameIndex, element.ObjectId));
        Assert.Equal([RotoServer.ClipHeight, RotoServer.ClipWidth], element.RleMask!.Size);
        Assert.InRange(element.RleMask.SelectedPixels(), 1, RotoServer.ClipWidth * RotoServer.ClipHeight - 1);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], element.PngMask!.ToPngBytes()[..4]);

        // Extensions: a second element with an excluded point, then deleting its points removes its mask again.
        var second = new SelectionRequest { SessionId = init.SessionId, FrameIndex = 10, ObjectId = 1, Points = [SelectionPoint.Include(0.15, 0.2), SelectionPoint.Exclude(0.9, 0.9)] };
        var two = await roto.AddSelectionAsync(second);
        Assert.Equal([0, 1], two.Res!.RleMaskList.Select(m => m.ObjectId).Order());
        var deleted = await roto.DeleteSelectionAsync(second);
        Assert.Equal([0], deleted.Res!.RleMaskList.Select(m => m.ObjectId));

        var cleared = await roto.ClearSelectionAsync(init.SessionId);
        Assert.Equal(init.SessionId, cleared.SessionId);
        await roto.AddSelectionAsync(new SelectionRequest { SessionId = init.SessionId, FrameIndex = 0, Points = [SelectionPoint.Include(0.5, 0.5)] });

        var preview = await roto.PreviewSelectionAsync(init.SessionId);
        var tracking = await roto.GetTrackingOutputAsync(preview.Res!.TrackingOutput!);
        Assert.Equal((init.SessionId, RotoServer.ClipFrames), (tracking.SessionId, tracking.TotalFrame));
        Assert.Equal(Enumerable.Range(0, RotoServer.ClipFrames), tracking.Frames.Select(f => f.FrameIndex));
        Assert.Contains(tracking.Frames, f => f.RleMaskList.Any(m => m.RleMask!.SelectedPixels() > 0));
        using (var overlay = new MemoryStream())
        {
            Assert.True(await roto.DownloadAsync(preview.Res.Video!, overlay) > 1000);
            Assert.Equal("ftyp"u8.ToArray(), overlay.ToArray()[4..8]);
        }

        var externalId = $"client-flow-{Guid.NewGuid():N}";
        var created = await roto.CreateTaskAsync(new CreateTaskRequest
        {
            SessionId = init.SessionId,
            EditMode = EditModes.Removal,
            Prompt = "Delete the selected element from <<<video_1>>>",
            ExternalTaskId = externalId,
        });
        Assert.Equal(TaskStatuses.Submitted, created.TaskStatus);
        Assert.Equal(externalId, created.TaskInfo?.ExternalTaskId);
        Assert.Equal(created.TaskId, (await roto.GetTaskAsync(externalId)).TaskId);
        Assert.Contains(await roto.ListTasksAsync(1, 50), t => t.TaskId == created.TaskId);

        var seen = new List<EditTask>();
        var done = await roto.WaitForTaskAsync(created.TaskId, new TaskWaitOptions { Timeout = TimeSpan.FromMinutes(5), OnProgress = seen.Add });
        Assert.Equal(TaskStatuses.Succeed, done.TaskStatus);
        Assert.Same(done, seen[^1]);
        var progress = seen.Select(t => t.TaskProgress ?? 0).ToList();
        Assert.Equal(progress.Order(), progress);
        Assert.Equal(100, progress[^1]);

        using var result = new MemoryStream();
        var bytes = await roto.DownloadAsync(done.ResultUrl!, result);
        Assert.Equal(result.Length, bytes);
        Assert.Equal("ftyp"u8.ToArray(), result.ToArray()[4..8]);
    }

    [Fact]
    public async Task Unknown_session_is_a_404_1203_exception_with_a_request_id()
    {
        using var roto = server.CreateClient();

        var error = await Assert.ThrowsAsync<RotoApiException>(() =>
            roto.AddSelectionAsync(new SelectionRequest { SessionId = "123456789012345678", FrameIndex = 0, Points = [SelectionPoint.Include(0.5, 0.5)] }));

        Assert.Equal((1203, HttpStatusCode.NotFound), (error.Code, error.HttpStatus));
        Assert.False(string.IsNullOrWhiteSpace(error.RequestId));
        Assert.Contains(error.RequestId!, error.Message);
    }

    [Fact]
    public async Task Unknown_task_is_a_404_1203_exception()
    {
        using var roto = server.CreateClient();

        var error = await Assert.ThrowsAsync<RotoApiException>(() => roto.GetTaskAsync("999999999999999999"));

        Assert.Equal((1203, HttpStatusCode.NotFound), (error.Code, error.HttpStatus));
    }

    [Fact]
    public async Task An_invalid_field_is_a_400_1201_exception_naming_it()
    {
        using var roto = server.CreateClient();

        var error = await Assert.ThrowsAsync<RotoApiException>(() =>
            roto.CreateTaskAsync(new CreateTaskRequest { SessionId = "123456789012345678", EditMode = "erase", Prompt = "p" }));

        Assert.Equal((1201, HttpStatusCode.BadRequest), (error.Code, error.HttpStatus));
        Assert.Contains("edit_mode", error.ServerMessage);
    }
}
