using Roto.Client;
using Spectre.Console;

namespace Roto.Cli.Commands;

/// <summary>Progress bars on stderr and waiting on a task with one.</summary>
internal static class ProgressView
{
    public static Task<T> RunAsync<T>(CliSession session, Func<ProgressContext, Task<T>> body) =>
        session.Err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(body);

    /// <summary>Runs one step as an indeterminate bar that completes when the step does.</summary>
    public static async Task<T> StepAsync<T>(ProgressContext context, string description, Func<Task<T>> step)
    {
        var bar = context.AddTask(Markup.Escape(description), maxValue: 1);
        bar.IsIndeterminate = true;
        var result = await step();
        bar.IsIndeterminate = false;
        bar.Value = 1;
        bar.StopTask();
        return result;
    }

    /// <summary>Polls the task, moving a bar with its <c>task_progress</c>.</summary>
    public static async Task<EditTask> WaitAsync(CliSession session, ProgressContext context, string taskId,
        TimeSpan timeout, TimeSpan interval, CancellationToken cancellationToken)
    {
        var bar = context.AddTask(Markup.Escape($"Task {taskId}: waiting"), maxValue: 100);
        var task = await session.Client.WaitForTaskAsync(taskId, new TaskWaitOptions
        {
            Timeout = timeout,
            PollInterval = interval,
            OnProgress = polled =>
            {
                bar.Description = Markup.Escape($"Task {taskId}: {polled.TaskStatus}");
                if (polled.TaskProgress is { } percent) bar.Value = Math.Clamp(percent, 0, 100);
            },
        }, cancellationToken);
        bar.Value = 100;
        bar.StopTask();
        return task;
    }
}
