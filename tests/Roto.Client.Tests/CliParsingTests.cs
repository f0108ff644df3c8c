using Roto.Cli;

namespace Roto.Client.Tests;

/// <summary>What the command line does before any request: points, usage errors and their exit codes.</summary>
public class CliParsingTests
{
    [Theory]
    [InlineData("0.5,0.25", 0.5, 0.25)]
    [InlineData(" 0,1 ", 0.0, 1.0)]
    [InlineData("1e-1,0.9", 0.1, 0.9)]
    public void Fraction_points_pass_through(string text, double x, double y)
    {
        var point = PointSpec.Parse(text, include: true);

        Assert.Equal((x, y, null), (point.X, point.Y, point.Label));
    }

    [Fact]
    public void Pixel_points_become_fractions_of_the_pixel_centre()
    {
        var point = PointSpec.Parse("639,0px", include: false, (1280, 720));

        Assert.Equal((639.5 / 1280, 0.5 / 720, 0), (point.X, point.Y, point.Label));
    }

    [Theory]
    [InlineData("1.5,0.5")]
    [InlineData("0.5")]
    [InlineData("a,b")]
    [InlineData("-0.1,0.5")]
    [InlineData("10,10px")]
    public void Malformed_points_are_usage_errors(string text) =>
        Assert.Throws<CliUsageException>(() => PointSpec.Parse(text, true, text.EndsWith("px") ? null : (1280, 720)));

    [Theory]
    [InlineData(new[] { "select", "123", "--frame", "0", "--point", "2,3" }, "outside [0,1]")]
    [InlineData(new[] { "select", "123", "--point", "0.5,0.5" }, "--frame")]
    [InlineData(new[] { "remove", "clip.mp4", "--point", "0.5,0.5" }, "--output")]
    [InlineData(new[] { "edit", "123", "--mode", "erase" }, "erase")]
    [InlineData(new[] { "edit", "123", "--mode", "swap" }, "--prompt is required")]
    [InlineData(new[] { "init", "no/such/file.mp4" }, "neither an existing file")]
    [InlineData(new[] { "tasks", "--access-key", "ak" }, "--secret-key")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "tasks", "--base-url", "ftp://example" }, "not an http(s) URL")]
    public async Task Usage_errors_exit_2_with_a_message_and_send_nothing(string[] args, string expectedMessage)
    {
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expectedMessage, stderr);
        Assert.Equal("", stdout);
    }

    /// <summary>
    /// Command lines whose mistakes used to surface only after an upload, a session or a whole task: every argument is
    /// checked before the first request, against a network that answers everything.
    /// </summary>
    [Theory]
    [InlineData("remove {clip} --point 2,0.64 -o {dir}/out.mp4", "outside [0,1]")]
    [InlineData("remove {clip} --point 0.5,0.5 --frame -1 -o {dir}/out.mp4", "--frame -1")]
    [InlineData("remove {clip} --point 0.5 -o {dir}/out.mp4", "not x,y")]
    [InlineData("remove {clip} --point 0.5,0.5 -o {dir}/missing/out.mp4", "does not exist")]
    [InlineData("remove {clip} --point 0.5,0.5 -o {dir}/out.mp4 --timeout 0", "--timeout")]
    [InlineData("select 123 --frame -3 --point 0.5,0.5", "--frame -3")]
    [InlineData("select 123 --frame 0 --point 0.5,0.5 --mask {dir}", "is a folder")]
    [InlineData("edit 123 --mode swap --image {clip} --prompt p --timeout -5 -o {dir}/out.mp4", "--timeout")]
    [InlineData("edit 123 --mode swap --image {clip} --prompt p --placement 1,2", "--placement")]
    [InlineData("edit 123 --mode swap --image {clip} --prompt p --callback-url nowhere", "--callback-url")]
    [InlineData("edit 123 --mode addition --image {clip} --image no/such.png --prompt p", "no/such.png")]
    [InlineData("edit 123 --mode removal -o {dir}/missing/out.mp4", "does not exist")]
    [InlineData("wait 42 -o {dir}/missing/out.mp4", "does not exist")]
    [InlineData("download 42 -o {dir}", "is a folder")]
    [InlineData("preview 123 -o {dir}/missing/overlay.mp4", "does not exist")]
    [InlineData("tasks --page 0", "--page 0")]
    [InlineData("tasks --page-size 501", "--page-size 501")]
    public async Task Every_argument_is_checked_before_the_first_request(string commandLine, string expectedMessage)
    {
        var dir = TestSupport.TestData.TempDir();
        var clip = Path.Combine(dir, "clip.mp4");
        await File.WriteAllBytesAsync(clip, [0, 0, 0, 0]);
        var requests = 0;

        var (code, stdout, stderr) = await RunAsync(commandLine.Replace("{clip}", clip).Replace("{dir}", dir).Split(' '), _ =>
        {
            Interlocked.Increment(ref requests);
            // An answer that ends any command at once, so a request sent too early fails the test instead of hanging it.
            return new HttpResponseMessage(System.Net.HttpStatusCode.BadRequest)
            {
                Content = new StringContent("""{"code":1201,"message":"this test answers no request","request_id":"r"}"""),
            };
        }).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(0, requests);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expectedMessage, stderr);
        Assert.Equal("", stdout);
    }

    /// <summary>A port nobody listens on: the command fails at once, names the URL and does not back off and retry.</summary>
    [Fact]
    public async Task Nothing_listening_exits_5_at_once_naming_the_url()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/";
        listener.Stop();

        var (code, _, stderr) = await RunAsync(["tasks", "--base-url", url, "--api-key", "k"], realNetwork: true).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains(url, stderr);
        Assert.DoesNotContain("retry", stderr);
    }

    [Fact]
    public async Task An_unreachable_server_exits_5()
    {
        // Uploads are never resent after a network fault, so this fails at once.
        var file = Path.Combine(TestSupport.TestData.TempDir(), "tiny.mp4");
        await File.WriteAllBytesAsync(file, [0, 0, 0, 0]);

        var (code, _, stderr) = await RunAsync(["upload", file], _ => throw new HttpRequestException("Connection refused"));

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("cannot reach the server", stderr);
    }

    [Fact]
    public async Task Help_exits_0_and_lists_the_commands()
    {
        var (code, stdout, _) = await RunAsync(["--help"]);

        Assert.Equal(ExitCodes.Ok, code);
        foreach (var command in new[] { "upload", "init", "select", "preview", "edit", "wait", "tasks", "download", "remove" })
            Assert.Contains(command, stdout);
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, Func<HttpRequestMessage, HttpResponseMessage>? network = null,
        bool realNetwork = false)
    {
        // Without a network of its own a test must not reach a real one: a request would then fail as a network fault.
        network ??= realNetwork ? null : _ => throw new HttpRequestException("this test has no network");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost
        {
            Out = stdout,
            Err = stderr,
            CreateHandler = network is null ? null : () => new FuncHandler(network),
        };
        var code = await RotoCli.RunAsync(args, host);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
