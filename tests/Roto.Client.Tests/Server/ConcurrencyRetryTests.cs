namespace Roto.Client.Tests.Server;

/// <summary>With a concurrency limit of 1, a second task meets 429/1303; the client retries until the first is done.</summary>
[Collection(ServerCollection.Name)]
public class ConcurrencyRetryTests(RotoServer server)
{
    [Fact]
    public async Task Second_task_meets_429_1303_and_retries_until_the_first_is_done()
    {
        var notices = new List<RetryNotice>();
        using var patient = server.CreateClient(o => o.Retry.OnRetry = notices.Add);
        using var impatient = server.CreateClient(o => o.Retry.MaxRetryAttempts = 0);
        var init = await patient.InitSelectionAsync((await patient.UploadFileAsync(server.SyntheticClip)).Url);
        await patient.AddSelectionAsync(new SelectionRequest { SessionId = init.SessionId, FrameIndex = 0, Points = [SelectionPoint.Include(0.5, 0.5)] });
        var removal = new CreateTaskRequest { SessionId = init.SessionId, EditMode = EditModes.Removal, Prompt = "Delete the selected element from <<<video_1>>>" };

        var first = await patient.CreateTaskAsync(removal);
        var refused = await Assert.ThrowsAsync<RotoApiException>(() => impatient.CreateTaskAsync(removal));
        var second = await patient.CreateTaskAsync(removal);

        Assert.Equal((1303, System.Net.HttpStatusCode.TooManyRequests), (refused.Code, refused.HttpStatus));
        Assert.True(refused.IsTransient);
        Assert.False(string.IsNullOrEmpty(refused.RequestId));
        Assert.NotEqual(first.TaskId, second.TaskId);
        Assert.NotEmpty(notices);
        Assert.All(notices, n => Assert.Equal((1303, 429), (n.Code, n.HttpStatus)));
        // The retries only ended once the first task had released its slot.
        var firstState = await patient.GetTaskAsync(first.TaskId);
        Assert.True(firstState.IsFinished, $"first task is {firstState.TaskStatus}");
        var done = await patient.WaitForTaskAsync(second.TaskId, new TaskWaitOptions { Timeout = TimeSpan.FromMinutes(5) });
        Assert.Equal(TaskStatuses.Succeed, done.TaskStatus);
    }
}
