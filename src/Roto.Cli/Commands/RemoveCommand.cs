using System.CommandLine;
using Roto.Client;

namespace Roto.Cli.Commands;

/// <summary>
/// <c>roto remove &lt;video&gt; --frame N --point x,y -o out.mp4</c>: the whole flow in one command —
/// upload, init, select, create a removal task, wait, download.
/// </summary>
internal static class RemoveCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var video = new Argument<string>("video") { Description = "A local video (uploaded first) or an http(s) URL" };
        var frame = CommonOptions.Frame(required: false);
        frame.DefaultValueFactory = _ => 0;
        var points = CommonOptions.Points("--point", "A point on the element: x,y as fractions in [0,1], or pixels with a px suffix (640,360px) (repeatable)");
        points.Required = true;
        var excludes = CommonOptions.Points("--exclude", "A point that must not be removed, same forms as --point (repeatable)");
        var prompt = new Option<string?>("--prompt") { Description = $"Prompt (default \"{EditCommand.DefaultRemovalPrompt}\")" };
        var output = CommonOptions.Output("Where to save the edited video", required: true);
        var timeout = CommonOptions.Timeout();
        var interval = CommonOptions.Interval();
        var command = new Command("remove", "Remove the element under the points from a video, end to end; prints the output path")
        {
            video, frame, points, excludes, prompt, output, timeout, interval,
        };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var input = parse.GetValue(video)!;
            var path = CommonOptions.OutputPath(parse.GetValue(output))!;
            var frameIndex = CommonOptions.FrameIndex(parse.GetValue(frame));
            PointSpec.Check(parse.GetValue(points), parse.GetValue(excludes));
            var waitTimeout = CommonOptions.Seconds(parse.GetValue(timeout), "--timeout");
            var pollInterval = CommonOptions.Seconds(parse.GetValue(interval), "--interval");
            if (!File.Exists(input) && !(Uri.TryCreate(input, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                throw new CliUsageException($"'{input}' is neither an existing file nor an http(s) URL");

            var (init, task) = await ProgressView.RunAsync(session, async view =>
            {
                var url = File.Exists(input)
                    ? (await view.StepAsync("Upload", () => session.Client.UploadFileAsync(input, cancellationToken))).Url
                    : input;
                var init = await view.StepAsync("Open session", () => session.Client.InitSelectionAsync(url, cancellationToken));
                if (frameIndex >= init.TotalFrame)
                    throw new CliUsageException($"--frame {frameIndex} is outside 0..{init.TotalFrame - 1}");
                var request = new SelectionRequest
                {
                    SessionId = init.SessionId,
                    FrameIndex = frameIndex,
                    Points = PointSpec.ParseAll(parse.GetValue(points), parse.GetValue(excludes), (init.Width, init.Height)),
                };
                var selection = await view.StepAsync("Select", () => session.Client.AddSelectionAsync(request, cancellationToken));
                if (selection.Res?.RleMaskList.All(m => m.RleMask?.SelectedPixels() is null or 0) ?? true)
                    throw new NoResultException($"nothing was selected on frame {frameIndex} at those points");
                var created = await view.StepAsync("Create removal task", () => session.Client.CreateTaskAsync(new CreateTaskRequest
                {
                    SessionId = init.SessionId,
                    EditMode = EditModes.Removal,
                    Prompt = parse.GetValue(prompt) ?? EditCommand.DefaultRemovalPrompt,
                }, cancellationToken));
                var done = await view.WaitAsync(session, created.TaskId, waitTimeout, pollInterval, cancellationToken);
                await view.StepAsync("Download", () => session.Client.DownloadResultAsync(done, path, null, cancellationToken));
                return (init, done);
            });
            Inputs.DescribeSession(session, init);
            if (session.Json) session.ResultJson(new RemoveSummary(init, task, path)); else session.Result(path);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>What <c>remove --json</c> prints: the session, the finished task, and where the video went.</summary>
    internal sealed record RemoveSummary(InitSelectionResult Session, EditTask Task, string Output);
}
