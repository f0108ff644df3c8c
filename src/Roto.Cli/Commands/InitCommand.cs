using System.CommandLine;

namespace Roto.Cli.Commands;

/// <summary><c>roto init &lt;file|url&gt;</c>: opens an editing session, prints its id.</summary>
internal static class InitCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var video = new Argument<string>("video") { Description = "A local video (uploaded first) or an http(s) URL" };
        var command = new Command("init", "Open an editing session on a video; prints the session id") { video };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var url = await Inputs.ToUrlAsync(session, parse.GetValue(video)!, cancellationToken);
            var init = await session.Client.InitSelectionAsync(url, cancellationToken);
            Inputs.DescribeSession(session, init);
            if (session.Json) session.ResultJson(init); else session.Result(init.SessionId);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
