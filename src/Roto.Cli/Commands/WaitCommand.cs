using System.CommandLine;

namespace Roto.Cli.Commands;

/// <summary><c>roto wait &lt;task&gt;</c>: waits with a progress bar; prints the result URL (or saves it with -o).</summary>
internal static class WaitCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var taskId = new Argument<string>("task") { Description = "task_id or external_task_id" };
        var output = CommonOptions.Output("Save the result video here (prints the path instead of the URL)");
        var timeout = CommonOptions.Timeout();
        var interval = CommonOptions.Interval();
        var command = new Command("wait", "Wait for a task to finish; exit 0 succeeded, 4 failed, 3 timed out") { taskId, output, timeout, interval };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var path = CommonOptions.OutputPath(parse.GetValue(output));
            var done = await ProgressView.RunAsync(session, view => view.WaitAsync(session, parse.GetValue(taskId)!,
                CommonOptions.Seconds(parse.GetValue(timeout), "--timeout"), CommonOptions.Seconds(parse.GetValue(interval), "--interval"), cancellationToken));
            var url = done.ResultUrl ?? throw new NoResultException($"task {done.TaskId} succeeded without a result video");
            if (path is not null)
            {
                await session.Client.DownloadToFileAsync(url, path, null, cancellationToken);
                url = path;
            }
            if (session.Json) session.ResultJson(done); else session.Result(url);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
