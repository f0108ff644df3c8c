using System.Text.Json;
using System.Text.RegularExpressions;
using Roto.Cli;
using Roto.TestSupport;

namespace Roto.Client.Tests.Server;

/// <summary>The <c>roto</c> command line run in-process against the real server.</summary>
[Collection(ServerCollection.Name)]
public partial class CliTests(RotoServer server)
{
    [Fact]
    public async Task One_shot_removal_of_a_real_clip_produces_a_playable_mp4_without_the_dog()
    {
        var clip = TestData.Clip("01_dog.mp4");
        var output = Path.Combine(TestData.TempDir(), "no-dog.mp4");

        // 600,440 px is on the dog's back in frame 0 (1280×720).
        var (code, stdout, stderr) = await server.RunCliAsync(["remove", clip, "--frame", "0", "--point", "600,440px", "-o", output, "--timeout", "600", "--json"]);

        Assert.True(code == ExitCodes.Ok, stderr);
        using var summary = JsonDocument.Parse(stdout);
        var totalFrame = summary.RootElement.GetProperty("session").GetProperty("total_frame").GetInt32();
        Assert.Equal(output, summary.RootElement.GetProperty("output").GetString());
        Assert.Equal("succeed", summary.RootElement.GetProperty("task").GetProperty("task_status").GetString());
        var (codec, width, height, frames) = Media.Probe(output);
        Assert.Equal(("h264", 1280, 720), (codec, width, height));
        Assert.Equal(totalFrame, frames);

        // The dog's region changed much more than a patch of path far from it.
        var before = Media.GreyFrame(clip, 0, 1280, 720);
        var after = Media.GreyFrame(output, 0, 1280, 720);
        var dog = Media.MeanDifference(before, after, 1280, (520, 400, 680, 480));
        var path = Media.MeanDifference(before, after, 1280, (900, 600, 1100, 700));
        Assert.True(dog > 4 * path + 5, $"dog region changed by {dog:0.0}, far path by {path:0.0}");
    }

    [Fact]
    public async Task Step_by_step_commands_chain_through_their_stdout()
    {
        var dir = TestData.TempDir();

        var init = await server.RunCliAsync(["init", server.SyntheticClip]);
        Assert.True(init.Code == ExitCodes.Ok, init.Stderr);
        var session = init.Stdout.Trim();
        Assert.Matches("^[0-9]{18,19}$", session);
        Assert.Contains($"{RotoServer.ClipWidth}x{RotoServer.ClipHeight}", init.Stderr);

        var mask = Path.Combine(dir, "mask.png");
        var select = await server.RunCliAsync(["select", session, "--frame", "0", "--point", "0.5,0.5", "--exclude", "0.05,0.05", "--mask", mask]);
        Assert.True(select.Code == ExitCodes.Ok, select.Stderr);
        var columns = select.Stdout.Trim().Split('\t');
        Assert.Equal("0", columns[0]);
        Assert.InRange(long.Parse(columns[1]), 1, RotoServer.ClipWidth * RotoServer.ClipHeight - 1);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(mask))[..4]);

        var overlay = Path.Combine(dir, "overlay.mp4");
        var preview = await server.RunCliAsync(["preview", session, "-o", overlay]);
        Assert.True(preview.Code == ExitCodes.Ok, preview.Stderr);
        Assert.Equal(overlay, preview.Stdout.Trim());
        Assert.Equal(RotoServer.ClipFrames, Media.Probe(overlay).Frames);

        var edit = await server.RunCliAsync(["edit", session, "--mode", "removal"]);
        Assert.True(edit.Code == ExitCodes.Ok, edit.Stderr);
        var taskId = edit.Stdout.Trim();
        Assert.Matches("^[0-9]{18,19}$", taskId);

        var impatient = await server.RunCliAsync(["wait", taskId, "--timeout", "0.01", "--interval", "0.01"]);
        Assert.Equal(ExitCodes.Timeout, impatient.Code);
        Assert.Contains("did not finish", impatient.Stderr);

        var wait = await server.RunCliAsync(["wait", taskId, "--timeout", "300", "--interval", "0.5"]);
        Assert.True(wait.Code == ExitCodes.Ok, wait.Stderr);
        Assert.StartsWith("http", wait.Stdout.Trim());

        var result = Path.Combine(dir, "result.mp4");
        var download = await server.RunCliAsync(["download", taskId, "-o", result]);
        Assert.True(download.Code == ExitCodes.Ok, download.Stderr);
        Assert.Equal(("h264", RotoServer.ClipFrames), (Media.Probe(result).Codec, Media.Probe(result).Frames));

        var tasks = await server.RunCliAsync(["tasks", "--page-size", "100"]);
        Assert.Equal(ExitCodes.Ok, tasks.Code);
        Assert.Matches(new Regex($"{taskId}.*succeed"), tasks.Stdout);
    }

    [Fact]
    public async Task Api_errors_exit_1_with_code_status_and_request_id()
    {
        var (code, stdout, stderr) = await server.RunCliAsync(["select", "123456789012345678", "--frame", "0", "--point", "0.5,0.5"]);

        Assert.Equal(ExitCodes.ApiError, code);
        Assert.Equal("", stdout);
        Assert.Matches(RequestIdError(), stderr);
    }

    [Fact]
    public async Task Signed_tokens_from_the_environment_authenticate_and_a_bad_key_exits_1()
    {
        var signed = new Dictionary<string, string>
        {
            ["ROTO_BASE_URL"] = server.BaseUrl.ToString(),
            ["KLING_ACCESS_KEY"] = RotoServer.AccessKey,
            ["KLING_SECRET_KEY"] = RotoServer.SecretKey,
        };

        var ok = await server.RunCliAsync(["tasks", "--json"], signed);
        var bad = await server.RunCliAsync(["tasks", "--api-key", "wrong"], new Dictionary<string, string> { ["ROTO_BASE_URL"] = server.BaseUrl.ToString() });

        Assert.True(ok.Code == ExitCodes.Ok, ok.Stderr);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(ok.Stdout).RootElement.ValueKind);
        Assert.Equal(ExitCodes.ApiError, bad.Code);
        Assert.Contains("error 1002 (HTTP 401)", bad.Stderr);
    }

    [GeneratedRegex(@"roto: error 1203 \(HTTP 404\): .+ \[request_id [^\]]+\]")]
    private static partial Regex RequestIdError();
}
