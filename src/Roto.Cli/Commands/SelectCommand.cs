using System.CommandLine;
using Roto.Client;

namespace Roto.Cli.Commands;

/// <summary><c>roto select &lt;session&gt; --frame N --point x,y</c>: clicks points; prints each element's selected pixels.</summary>
internal static class SelectCommand
{
    public static Command Build(CliHost host, GlobalOptions global)
    {
        var sessionId = new Argument<string>("session") { Description = "Session id from 'roto init'" };
        var frame = CommonOptions.Frame(required: true);
        var points = CommonOptions.Points("--point", "A point on the element, x,y as fractions of width and height in [0,1] (repeatable)");
        var excludes = CommonOptions.Points("--exclude", "A point that must not be selected, x,y in [0,1] (repeatable; Roto extension)");
        var objectId = new Option<int?>("--object") { Description = "Element the points belong to (Roto extension; default 0)" };
        var delete = new Option<bool>("--delete") { Description = "Remove these points (as added before) instead of adding them" };
        var mask = new Option<string?>("--mask") { Description = "Save the element's mask on this frame as a PNG" };
        var command = new Command("select", "Add (or --delete) points on one frame; prints 'object_id<TAB>selected pixels' per element")
        {
            sessionId, frame, points, excludes, objectId, delete, mask,
        };
        command.SetAction(RotoCli.Action(host, global, async (session, parse, cancellationToken) =>
        {
            var maskPath = CommonOptions.OutputPath(parse.GetValue(mask), "--mask");
            var request = new SelectionRequest
            {
                SessionId = parse.GetValue(sessionId)!,
                FrameIndex = CommonOptions.FrameIndex(parse.GetValue(frame)),
                Points = PointSpec.ParseAll(parse.GetValue(points), parse.GetValue(excludes)),
                ObjectId = parse.GetValue(objectId),
            };
            var result = parse.GetValue(delete)
                ? await session.Client.DeleteSelectionAsync(request, cancellationToken)
                : await session.Client.AddSelectionAsync(request, cancellationToken);
            var masks = result.Res?.RleMaskList ?? [];
            if (maskPath is not null)
            {
                var wanted = masks.FirstOrDefault(m => m.ObjectId == (request.ObjectId ?? 0))
                    ?? throw new NoResultException($"no mask for element {request.ObjectId ?? 0} on frame {request.FrameIndex}");
                await File.WriteAllBytesAsync(maskPath, wanted.PngMask?.ToPngBytes() ?? throw new NoResultException("the answer carried no png_mask"), cancellationToken);
                session.Note($"Mask saved to {maskPath}");
            }
            if (session.Json) session.ResultJson(result);
            else foreach (var m in masks) session.Result($"{m.ObjectId}\t{m.RleMask?.SelectedPixels() ?? 0}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
