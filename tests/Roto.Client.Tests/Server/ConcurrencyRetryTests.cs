namespace Roto.Client.Tests.Server;

/// <summary>With a concurrency limit of 1, a second task meets 429/1303 and the client retries until the first is done.</summary>
[Collection(ServerCollection.Name)]
public class ConcurrencyRetryTests(RotoServer server)
{
    [Fact]
    public async Task Second_task_waits_out_429_1303_through_retries()
    {
        var notices = new List<RetryNotice>();
        using var roto = server.CreateClient(o => o.Retry.OnRetry = notices.Add);
        var init = await roto.InitSelectionAsync((await roto.UploadFileAsync(server.SyntheticClip)).Url);
        await roto.AddSelectionAsync(new SelectionRequest { SessionId = init.SessionId, FrameIndex = 0, Points = [SelectionPoint.Include(0.5, 0.5)] });
        var removal = new CreateTaskRequest { SessionId = init.SessionId, EditMode = EditModes.Removal, Prompt = "Delete the selected element from <<<video_1>>>" };

        var first = await roto.CreateTaskAsync(removal);
        var second = await roto.CreateTaskAsync(removal);

        Assert.NotEqual(first.TaskId, second.TaskId);
        Assert.NotEmpty(notices);
        Assert.All(notices, n => Assert.Equal((1303, 429), (n.Code, n.HttpStatus)));
        // The retries only ended once the first task had released its slot.
        var firstState = await roto.GetTaskAsync(first.TaskId);
        Assert.True(firstState.IsFinished, $"first task is {firstState.TaskStatus}");
        Assert.Equal(TaskStatuses.Succeed, (await roto.WaitForTaskAsync(second.TaskId, new TaskWaitOptions { Timeout = TimeSpan.FromMinutes(5) })).TaskStatus);
    }

    [Fact]
    public async Task Without_retries_the_caller_sees_the_1303_exception()
    {
        using var roto = server.CreateClient(o => o.Retry.MaxRetryAttempts = 0);
        var init = await roto.InitSelectionAsync((await roto.UploadFileAsync(server.SyntheticClip)).Url);
        await roto.AddSelectionAsync(new SelectionRequest { SessionId = init.SessionId, FrameIndex = 0, Points = [SelectionPoint.Include(0.5, 0.5)] });
        var removal = new CreateTaskRequest { SessionId = init.SessionId, EditMode = EditModes.Removal, Prompt = "Delete the selected element from <<<video_1>>>" };

        var first = await roto.CreateTaskAsync(removal);
        var error = await Assert.ThrowsAsync<RotoApiException>(() => roto.CreateTaskAsync(removal));

        Assert.Equal((1303, System.Net.HttpStatusCode.TooManyRequests), (error.Code, error.HttpStatus));
        Assert.True(error.IsTransient);
        await roto.WaitForTaskAsync(first.TaskId, new TaskWaitOptions { Timeout = TimeSpan.FromMinutes(5) });
    }
}
