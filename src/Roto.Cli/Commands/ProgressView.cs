using System.Diagnostics;
using Roto.Client;
using Spectre.Console;

namespace Roto.Cli.Commands;

/// <summary>
/// Shows the steps of a command on stderr: live progress bars on a terminal, plain lines otherwise
/// (logs and scripts get one line per step and per change of task status or progress decile).
/// </summary>
internal abstract class ProgressView
{
    public static Task<T> RunAsync<T>(CliSession session, Func<ProgressView, Task<T>> body) =>
        session.Err.Profile.Capabilities.Interactive
            ? session.Err.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(context => body(new Live(context)))
            : body(new Plain(session));

    /// <summary>Runs one step, shown as done when it returns.</summary>
    public abstract Task<T> StepAsync<T>(string description, Func<Task<T>> step);

    /// <summary>Polls the task, showing its status and <c>task_progress</c>.</summary>
    public async Task<EditTask> WaitAsync(CliSession session, string taskId, TimeSpan timeout, TimeSpan interval, CancellationToken cancellationToken)
    {
        var report = StartTask(taskId);
        var task = await session.Client.WaitForTaskAsync(taskId, new TaskWaitOptions
        {
            Timeout = timeout,
            PollInterval = interval,
            OnProgress = polled => report(polled.TaskStatus, polled.TaskProgress),
        }, cancellationToken);
        report(task.TaskStatus, 100);
        return task;
    }

    /// <summary>Starts showing a task; the returned callback takes each polled status and progress.</summary>
    protected abstract Action<string, int?> StartTask(string taskId);

    private sealed class Live(ProgressContext context) : ProgressView
    {
        public override async Task<T> StepAsync<T>(string description, Func<Task<T>> step)
        {
            var bar = context.AddTask(Markup.Escape(description), maxValue: 1);
            bar.IsIndeterminate = true;
            var result = await step();
            bar.IsIndeterminate = false;
            bar.Value = 1;
            bar.StopTask();
            return result;
        }

        protected override Action<string, int?> StartTask(string taskId)
        {
            var bar = context.AddTask(Markup.Escape($"Task {taskId}: waiting"), maxValue: 100);
            return (status, percent) =>
            {
                bar.Description = Markup.Escape($"Task {taskId}: {status}");
                if (percent is { } p) bar.Value = Math.Clamp(p, 0, 100);
                if (status is TaskStatuses.Succeed or TaskStatuses.Failed) bar.StopTask();
            };
        }
    }

    private sealed class Plain(CliSession session) : ProgressView
    {
        public override async Task<T> StepAsync<T>(string description, Func<Task<T>> step)
        {
            var clock = Stopwatch.StartNew();
            var result = await step();
            session.Note($"{description}: done in {clock.Elapsed.TotalSeconds:0.0} s");
            return result;
        }

        protected override Action<string, int?> StartTask(string taskId)
        {
            (string Status, int Decile)? last = null;
            return (status, percent) =>
            {
                var now = (status, (percent ?? 0) / 10);
                if (now == last) return;
                last = now;
                session.Note($"Task {taskId}: {status} {percent ?? 0}%");
            };
        }
    }
}
