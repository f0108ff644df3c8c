using System.CommandLine;
using Roto.Client;

namespace Roto.Cli.Commands;

/// <summary><c>roto download &lt;task&gt; -o out.mp4</c>: saves a finished task's video.</summary>
internal static class DownloadCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var taskId = new Argument<string>("task") { Description = "task_id or external_task_id" };
        var output = CommonOptions.Output("Where to save the result video", required: true);
        var command = new Command("download", "Save a succeeded task's result video; prints the path") { taskId, output };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var path = CommonOptions.OutputPath(parse.GetValue(output))!;
            var task = await session.Client.GetTaskAsync(parse.GetValue(taskId)!, cancellationToken);
            if (task.TaskStatus == TaskStatuses.Failed) throw new RotoTaskFailedException(task);
            if (task.ResultUrl is null) throw new NoResultException($"task {task.TaskId} is {task.TaskStatus}; nothing to download yet (try 'roto wait')");
            var bytes = await session.Client.DownloadResultAsync(task, path, null, cancellationToken);
            session.Note($"Saved {bytes / 1024.0 / 1024.0:0.00} MiB");
            session.Result(path);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
