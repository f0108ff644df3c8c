namespace Roto.Client.Tests.Server;

/// <summary>The README's C# example, verbatim (between the markers), so that it keeps compiling and working.</summary>
internal static class ReadmeExample
{
    // README example begins
    // Removes the element under one click on frame 0 and saves the edited video.
    public static async Task RemoveAsync(RotoClient roto, string video, double x, double y, string output)
    {
        var upload = await roto.UploadFileAsync(video);
        var session = await roto.InitSelectionAsync(upload.Url);
        await roto.AddSelectionAsync(new SelectionRequest { SessionId = session.SessionId, FrameIndex = 0, Points = [SelectionPoint.Include(x, y)] });
        var task = await roto.CreateTaskAsync(new CreateTaskRequest { SessionId = session.SessionId, EditMode = EditModes.Removal, Prompt = "Delete the selected element from <<<video_1>>>" });
        var done = await roto.WaitForTaskAsync(task.TaskId, new TaskWaitOptions { OnProgress = t => Console.WriteLine($"{t.TaskStatus} {t.TaskProgress}%") });
        await roto.DownloadResultAsync(done, output);
    }
    // README example ends
}

[Collection(ServerCollection.Name)]
public class ReadmeExampleTests(RotoServer server)
{
    [Fact]
    public async Task The_readme_example_produces_an_edited_video()
    {
        using var roto = server.CreateClient();
        var output = Path.Combine(Roto.TestSupport.TestData.TempDir(), "edited.mp4");

        await ReadmeExample.RemoveAsync(roto, server.SyntheticClip, 0.5, 0.5, output);

        var (codec, width, height, frames) = Media.Probe(output);
        Assert.Equal(("h264", RotoServer.ClipWidth, RotoServer.ClipHeight, RotoServer.ClipFrames), (codec, width, height, frames));
    }
}
