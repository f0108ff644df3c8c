using System.Text.Json.Nodes;
using Roto.TestSupport;
using Xunit.Abstractions;

namespace Roto.Crash.Tests;

/// <summary>
/// SIGKILL of the real server process in the middle of an upload, an init-selection, a preview-selection and a
/// removal task; then a restart on the same data directory must leave no task in "processing", serve every earlier
/// result unchanged, and (after the sweeper) keep no file that no session, task or upload owns.
/// </summary>
public sealed class KillNineTests(CrashFixture data, ITestOutputHelper output) : IClassFixture<CrashFixture>
{
    private static readonly TimeSpan TaskTime = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Killed_during_an_upload()
    {
        var uploadsBefore = CountFiles("upload");
        using (var server = await data.RunningOrStartAsync())
        using (var client = server.Client())
        {
            var part = new StallingFileContent(await File.ReadAllBytesAsync(TestData.Clip("01_dog.mp4")));
            var form = new MultipartFormDataContent { { part, "file", "clip.mp4" } };
            var upload = client.PostAsync("v1/uploads", form);
            await part.HalfSent.WaitAsync(TimeSpan.FromSeconds(30));
            await WaitUntilAsync(() => BufferedUploadBytes() > 0, "the server buffering the upload");
            output.WriteLine($"killed with {BufferedUploadBytes()} bytes of the upload buffered");
            server.Kill9();
            await Assert.ThrowsAnyAsync<Exception>(() => upload);
        }
        await RestartAndCheckAsync();
        Assert.Equal(uploadsBefore, CountFiles("upload"));
        // ASP.NET Core buffers multipart bodies in ASPNETCORE_TEMP (outside the data directory); report what a crash left there.
        output.WriteLine($"left in ASPNETCORE_TEMP: {Directory.GetFiles(data.AspNetTemp).Length} files");
    }

    [Fact]
    public async Task Killed_during_an_init_selection()
    {
        var sessionsBefore = CountFiles("normalized");
        using (var source = new StallingSource(data.Clip))
        using (var server = await data.RunningOrStartAsync())
        using (var client = server.Client())
        {
            var init = client.PostAsync($"{Api.B}/init-selection", JsonContent(new JsonObject { ["video_url"] = source.Url }));
            await source.HalfSent.WaitAsync(TimeSpan.FromSeconds(30));
            await WaitUntilAsync(() => data.Audit.TempFiles().Count > 0, "the download's temporary file");
            output.WriteLine($"killed with {string.Join(", ", data.Audit.TempFiles())} in progress");
            server.Kill9();
            await Assert.ThrowsAnyAsync<Exception>(() => init);
        }
        await RestartAndCheckAsync();
        Assert.Equal(sessionsBefore, CountFiles("normalized"));
    }

    [Fact]
    public async Task Killed_during_a_preview_selection()
    {
        using (var server = await data.RunningOrStartAsync())
        using (var client = server.Client())
        {
            var preview = client.PostAsync($"{Api.B}/preview-selection", JsonContent(new JsonObject { ["session_id"] = data.PreviewSession }));
            await WaitUntilAsync(() => data.Audit.TempFiles().Any(f => f.EndsWith(".mp4") || f.EndsWith(".json")), "the preview's temporary files");
            output.WriteLine($"killed with {string.Join(", ", data.Audit.TempFiles())} in progress");
            server.Kill9();
            await Assert.ThrowsAnyAsync<Exception>(() => preview);
        }
        await RestartAndCheckAsync();
        // The session survived the crash: previewing it again works and is served.
        using var again = data.Running!.Client();
        var res = (await Api.PreviewAsync(again, data.PreviewSession))["res"]!;
        await Api.DownloadHashAsync(again, res["video"]!.GetValue<string>());
        await Api.DownloadHashAsync(again, res["tracking_output"]!.GetValue<string>());
    }

    [Fact]
    public async Task Killed_during_a_removal_task()
    {
        string taskId;
        using (var server = await data.RunningOrStartAsync())
        using (var client = server.Client())
        {
            taskId = await Api.RemoveAsync(client, data.TaskSession);
            await WaitUntilAsync(() => data.Audit.Tasks().Single(t => t.Id == taskId).Status == "processing"
                && data.Audit.TempFiles().Any(f => f.EndsWith(".mp4")), "the task processing and writing its result");
            output.WriteLine($"killed at {(await Api.TaskAsync(client, taskId))["task_progress"]}% with {string.Join(", ", data.Audit.TempFiles())}");
            server.Kill9();
        }
        Assert.Equal("processing", data.Audit.Tasks().Single(t => t.Id == taskId).Status);
        var planted = data.Audit.PlantResultOfKilledAttempt(taskId, data.Audit.AccountOf(taskId));
        await RestartAndCheckAsync();
        Assert.False(File.Exists(planted), "the result of the killed attempt must not outlive the retry");
        var row = data.Audit.Tasks().Single(t => t.Id == taskId);
        Assert.Equal("succeed", row.Status);
        Assert.Equal(2, row.Attempts);
        Assert.Contains(taskId, data.ResultHashes.Keys);
    }

    /// <summary>
    /// Starts the server again on the same data and checks what a crash must not break: every task ends (a failure
    /// says why), every result served before is served with the same bytes, and the sweeper leaves only owned files.
    /// The restarted server stays up for the next scenario.
    /// </summary>
    private async Task RestartAndCheckAsync()
    {
        var started = DateTime.UtcNow;
        var server = data.Running = await data.StartAsync();
        using var client = server.Client();
        foreach (var row in data.Audit.Tasks())
        {
            var task = await Api.WaitForTaskAsync(client, row.Id, TaskTime);
            if (task["task_status"]!.GetValue<string>() == "failed")
            {
                Assert.False(string.IsNullOrWhiteSpace(task["task_status_msg"]?.GetValue<string>()), $"task {row.Id} failed without a reason");
                continue;
            }
            var hash = await Api.DownloadHashAsync(client, Api.ResultUrl(task));
            if (data.ResultHashes.TryGetValue(row.Id, out var before)) Assert.Equal(before, hash);
            else data.ResultHashes[row.Id] = hash;
        }
        Assert.DoesNotContain(data.Audit.Tasks(), t => t.Status is "processing" or "submitted");

        await WaitUntilAsync(() => data.Audit.UnownedFiles().Count == 0 && data.Audit.TempFolders() == 1,
            "the sweeper to leave only owned files and the live process's temporary folder", TimeSpan.FromSeconds(30),
            () => $"unowned: {string.Join("; ", data.Audit.UnownedFiles())}; temporary folders: {data.Audit.TempFolders()}");
        output.WriteLine($"recovered and clean {(DateTime.UtcNow - started).TotalSeconds:0.0} s after the restart");
    }

    private int CountFiles(string kind) => Directory.Exists(Path.Combine(data.DataDir, "files", kind))
        ? Directory.GetFiles(Path.Combine(data.DataDir, "files", kind), "*", SearchOption.AllDirectories).Length
        : 0;

    private long BufferedUploadBytes() =>
        Directory.GetFiles(data.AspNetTemp).Sum(f => new FileInfo(f).Length)
        + data.Audit.TempFiles().Sum(f => new FileInfo(Path.Combine(data.DataDir, "files", f)).Length);

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited in vain for {what}. {detail?.Invoke()}");
            await Task.Delay(10);
        }
    }
}
