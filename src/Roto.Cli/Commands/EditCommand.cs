using System.CommandLine;
using System.Globalization;
using Roto.Client;

namespace Roto.Cli.Commands;

/// <summary><c>roto edit &lt;session&gt; --mode removal|swap|addition</c>: starts an edit task, prints its id.</summary>
internal static class EditCommand
{
    /// <summary>Prompt used for removals when none is given (the wire requires one).</summary>
    public const string DefaultRemovalPrompt = "Delete the selected element from <<<video_1>>>";

    public static Command Build(CliHost host, GlobalOptions global)
    {
        var sessionId = new Argument<string>("session") { Description = "Session id from 'roto init'" };
        var mode = new Option<string>("--mode") { Description = "removal, swap or addition", Required = true };
        mode.AcceptOnlyFromAmong(EditModes.Removal, EditModes.Swap, EditModes.Addition);
        var images = new Option<string[]>("--image")
        {
            Description = "Reference image: a local png/jpg (uploaded first) or an http(s) URL (repeatable; swap 1, addition 1-2)",
            AllowMultipleArgumentsPerToken = false,
        };
        var prompt = new Option<string?>("--prompt") { Description = $"What to do; refer to <<<video_1>>> and <<<image_1>>> (removal default: \"{DefaultRemovalPrompt}\")" };
        var negative = new Option<string?>("--negative-prompt") { Description = "What to avoid" };
        var placement = new Option<string?>("--placement") { Description = "Addition only (Roto extension): x,y,scale as fractions (centre, height / frame height)" };
        var externalId = new Option<string?>("--external-id") { Description = "Your own id for the task (unique per account)" };
        var callback = new Option<string?>("--callback-url") { Description = "URL notified on every status change" };
        var duration = new Option<string?>("--duration") { Description = "\"5\" or \"10\" (Kling)" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the task with a progress bar (implied by -o)" };
        var output = CommonOptions.Output("Wait, then save the result video here");
        var timeout = CommonOptions.Timeout();
        var interval = CommonOptions.Interval();
        var command = new Command("edit", "Start an edit task on the session's selection; prints the task id")
        {
            sessionId, mode, images, prompt, negative, placement, externalId, callback, duration, wait, output, timeout, interval,
        };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            // Everything the user typed is checked before the first upload or request.
            var editMode = parse.GetValue(mode)!;
            var promptText = parse.GetValue(prompt) ?? (editMode == EditModes.Removal
                ? DefaultRemovalPrompt
                : throw new CliUsageException($"--prompt is required for {editMode}"));
            var placementValue = parse.GetValue(placement) is { } p ? ParsePlacement(p) : null;
            var callbackUrl = CommonOptions.HttpUrl(parse.GetValue(callback), "--callback-url");
            var path = CommonOptions.OutputPath(parse.GetValue(output));
            var waitTimeout = CommonOptions.Seconds(parse.GetValue(timeout), "--timeout");
            var pollInterval = CommonOptions.Seconds(parse.GetValue(interval), "--interval");
            var imageInputs = parse.GetValue(images) ?? [];
            foreach (var image in imageInputs) Inputs.Check(image);

            var imageList = new List<TaskImage>();
            foreach (var image in imageInputs)
                imageList.Add(new TaskImage(await Inputs.ToUrlAsync(session, image, cancellationToken)));
            var request = new CreateTaskRequest
            {
                SessionId = parse.GetValue(sessionId)!,
                EditMode = editMode,
                ImageList = imageList.Count > 0 ? imageList : null,
                Prompt = promptText,
                NegativePrompt = parse.GetValue(negative),
                Placement = placementValue,
                ExternalTaskId = parse.GetValue(externalId),
                CallbackUrl = callbackUrl,
                Duration = parse.GetValue(duration),
            };
            var created = await session.Client.CreateTaskAsync(request, cancellationToken);
            if (!parse.GetValue(wait) && path is null)
            {
                if (session.Json) session.ResultJson(created); else session.Result(created.TaskId);
                return ExitCodes.Ok;
            }
            session.Note($"Task {created.TaskId} created");
            var done = await ProgressView.RunAsync(session, view => view.WaitAsync(session, created.TaskId,
                waitTimeout, pollInterval, cancellationToken));
            if (path is not null)
            {
                await session.Client.DownloadResultAsync(done, path, null, cancellationToken);
                session.Note($"Result saved to {path}");
            }
            if (session.Json) session.ResultJson(done); else session.Result(created.TaskId);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Placement ParsePlacement(string text)
    {
        var parts = text.Split(',');
        var values = parts.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN).ToArray();
        if (values.Length != 3 || values.Any(v => v is double.NaN or < 0 or > 1))
            throw new CliUsageException($"--placement '{text}' is not x,y,scale with fractions in [0,1]");
        return new Placement(values[0], values[1], values[2]);
    }
}
