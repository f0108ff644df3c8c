using Roto.TestSupport;

namespace Roto.Crash.Tests;

/// <summary>
/// One data directory that every kill -9 scenario crashes into in turn, so each restart also proves that the
/// damage of the earlier ones stayed repaired. It starts with a finished removal (whose bytes must survive every
/// crash) and with two sessions already selected for the preview and task scenarios.
/// </summary>
public sealed class CrashFixture : IAsyncLifetime
{
    public string Root { get; } = TestData.TempDir("roto-crash");
    public string DataDir => Path.Combine(Root, "data");
    public string LogPath => Path.Combine(Root, "server.log");
    /// <summary>Where ASP.NET Core buffers multipart uploads in the child (ASPNETCORE_TEMP), outside the data directory.</summary>
    public string AspNetTemp => Path.Combine(Root, "aspnet-temp");
    public string Clip { get; private set; } = "";
    /// <summary>
    /// A longer cut of the same clip for the task scenario: its removal writes its result for seconds, not for the
    /// fraction of a second that the short clip's takes, so the scenario cannot miss the moment to kill the server
    /// when the test process is starved for a moment by the other test runs beside it.
    /// </summary>
    public string TaskClip { get; private set; } = "";
    public string PreviewSession { get; private set; } = "";
    public string TaskSession { get; private set; } = "";
    /// <summary>SHA-256 of every result that was served once, by task id: they must be served unchanged after every crash.</summary>
    public Dictionary<string, string> ResultHashes { get; } = [];
    public DataDirAudit Audit => new(DataDir);

    /// <summary>
    /// The server that is up now: each scenario kills it and leaves its restarted successor running for the next,
    /// so the class starts the server five times rather than nine (starting is most of its time).
    /// </summary>
    public ServerProcess? Running { get; set; }

    public Task<ServerProcess> StartAsync() =>
        ServerProcess.StartAsync(DataDir, LogPath, new Dictionary<string, string> { ["ASPNETCORE_TEMP"] = AspNetTemp });

    public async Task<ServerProcess> RunningOrStartAsync() => Running is { HasExited: false } ? Running : Running = await StartAsync();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(AspNetTemp);
        // A real clip, cut and scaled down so a whole task takes seconds on two busy cores (relaxed profile).
        Clip = Path.Combine(Root, "dog-320x180.mp4");
        TestData.Ffmpeg("-i", TestData.Clip("01_dog.mp4"), "-t", "1.5", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-an", Clip);
        TaskClip = Path.Combine(Root, "dog-320x180-8s.mp4");
        TestData.Ffmpeg("-i", TestData.Clip("01_dog.mp4"), "-t", "8", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-an", TaskClip);

        var server = await RunningOrStartAsync();
        using var client = server.Client();
        var url = await Api.UploadAsync(client, Clip);
        var done = await Api.InitAsync(client, url);
        await Api.SelectAsync(client, done);
        var taskId = await Api.RemoveAsync(client, done);
        var task = await Api.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(3));
        Assert.Equal("succeed", task["task_status"]!.GetValue<string>());
        ResultHashes[taskId] = await Api.DownloadHashAsync(client, Api.ResultUrl(task));

        PreviewSession = await Api.InitAsync(client, url);
        await Api.SelectAsync(client, PreviewSession);
        TaskSession = await Api.InitAsync(client, await Api.UploadAsync(client, TaskClip));
        await Api.SelectAsync(client, TaskSession);
    }

    public Task DisposeAsync()
    {
        Running?.Dispose();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        return Task.CompletedTask;
    }
}
