using System.CommandLine;

namespace Roto.Cli.Commands;

/// <summary><c>roto preview &lt;session&gt; [-o overlay.mp4]</c>: tracks the selection; prints (or saves) the overlay video.</summary>
internal static class PreviewCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var sessionId = new Argument<string>("session") { Description = "Session id from 'roto init'" };
        var output = CommonOptions.Output("Save the overlay video here (prints the path instead of the URL)");
        var command = new Command("preview", "Track the selection through the video; prints the overlay video's URL") { sessionId, output };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var path = CommonOptions.OutputPath(parse.GetValue(output));
            var preview = await ProgressView.RunAsync(session, view =>
                view.StepAsync("Tracking the selection", () => session.Client.PreviewSelectionAsync(parse.GetValue(sessionId)!, cancellationToken)));
            var video = preview.Res?.Video ?? throw new NoResultException("the preview carried no video");
            if (path is not null)
            {
                await session.Client.DownloadToFileAsync(video, path, null, cancellationToken);
                if (session.Json) session.ResultJson(preview); else session.Result(path);
            }
            else if (session.Json) session.ResultJson(preview);
            else session.Result(video);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
