using System.CommandLine;

namespace Roto.Cli.Commands;

/// <summary><c>roto upload &lt;file&gt;</c>: stores a file on the server, prints its URL.</summary>
internal static class UploadCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var file = new Argument<string>("file") { Description = "Video (mp4/mov) or image (png/jpg) to store on the server" };
        var command = new Command("upload", "Store a local file on the server (Roto only); prints its URL") { file };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var result = await Inputs.UploadAsync(session, parse.GetValue(file)!, cancellationToken);
            if (session.Json) session.ResultJson(result); else session.Result(result.Url);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
