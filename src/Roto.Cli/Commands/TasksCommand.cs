using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Roto.Cli.Commands;

/// <summary><c>roto tasks</c>: a table of the account's tasks, newest first.</summary>
internal static class TasksCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var page = new Option<int>("--page") { Description = "Page number, from 1", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Tasks per page (1-500)", DefaultValueFactory = _ => 30 };
        var command = new Command("tasks", "List tasks, newest first") { page, pageSize };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var pageNumber = parse.GetValue(page);
            var size = parse.GetValue(pageSize);
            if (pageNumber < 1) throw new CliUsageException($"--page {pageNumber}: pages are counted from 1");
            if (size is < 1 or > 500) throw new CliUsageException($"--page-size {size} is outside 1..500");
            var tasks = await session.Client.ListTasksAsync(pageNumber, size, cancellationToken);
            if (session.Json)
            {
                session.ResultJson(tasks);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("task_id", "status", "progress", "created (UTC)", "external_task_id", "message");
            foreach (var task in tasks)
                table.AddRow(
                    Markup.Escape(task.TaskId),
                    Markup.Escape(task.TaskStatus),
                    task.TaskProgress is { } p ? $"{p}%" : "",
                    DateTimeOffset.FromUnixTimeMilliseconds(task.CreatedAt).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    Markup.Escape(task.TaskInfo?.ExternalTaskId ?? ""),
                    Markup.Escape(task.TaskStatusMsg ?? ""));
            session.Out.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
