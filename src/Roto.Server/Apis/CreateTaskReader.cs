using System.Text.Json;
using Roto.Core;
using Roto.Core.Tasks;
using Roto.Server.Wire;

namespace Roto.Server.Apis;

/// <summary>Reads and checks the create-task body (spec §2.6 and decision 5), naming the field in every error.</summary>
public static class CreateTaskReader
{
    public const int MaxPromptLength = 2500;
    private static readonly string[] Models = ["kling-v1", "kling-v1-5", "kling-v1-6"];
    private static readonly string[] Modes = ["std", "pro"];
    private static readonly string[] AspectRatios = ["16:9", "9:16", "1:1"];
    private static readonly string[] CameraTypes = ["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"];
    private static readonly string[] CameraAxes = ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"];

    public static EditRequest Read(JsonBody body)
    {
        var model = body.OptString("model_name", 64) ?? "kling-v1-6";
        if (!Models.Contains(model)) throw KlingError.Invalid($"model_name must be one of {string.Join(", ", Models)}");
        var sessionId = body.ReqString("session_id", 64);
        var editMode = body.ReqString("edit_mode", 32);
        if (!EditModes.All.Contains(editMode)) throw KlingError.Invalid($"edit_mode must be one of {string.Join(", ", EditModes.All)}");
        var prompt = body.ReqString("prompt", MaxPromptLength);
        var negative = body.OptString("negative_prompt", MaxPromptLength);
        var mode = body.OptString("mode", 16) ?? "std";
        if (!Modes.Contains(mode)) throw KlingError.Invalid("mode must be std or pro");

        return new EditRequest
        {
            ModelName = model,
            SessionId = sessionId,
            EditMode = editMode,
            Images = ReadImages(body),
            Prompt = prompt,
            NegativePrompt = negative,
            Mode = mode,
            Duration = ReadDuration(body),
            CfgScale = JsonBody.OptNumber(body.Root, "cfg_scale", "cfg_scale", 0, 1),
            AspectRatio = ReadAspectRatio(body),
            CameraControlJson = ReadCameraControl(body),
            Watermark = body.OptObject("watermark_info") is { } w && body.OptBool(w, "enabled", "watermark_info.enabled") == true,
            CallbackUrl = ReadCallbackUrl(body),
            ExternalTaskId = body.OptString("external_task_id", 200),
            Placement = ReadPlacement(body),
        };
    }

    /// <summary>image_list as [{"image": "…"}] or ["…"] (decision 6).</summary>
    private static List<string> ReadImages(JsonBody body)
    {
        var list = new List<string>();
        if (body.OptArray("image_list") is not { } array) return list;
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = $"image_list[{i++}]";
            var value = item.ValueKind switch
            {
                JsonValueKind.String => item.GetString(),
                JsonValueKind.Object => JsonBody.OptString(item, "image", $"{path}.image", 20_000_000),
                _ => throw KlingError.Invalid($"{path} must be {{\"image\": \"…\"}} or a string"),
            };
            if (string.IsNullOrEmpty(value)) throw KlingError.Invalid($"{path}.image is required");
            list.Add(value);
        }
        if (list.Count > 2) throw KlingError.Invalid($"image_list takes at most 2 images (got {list.Count})");
        return list;
    }

    private static string? ReadDuration(JsonBody body)
    {
        if (JsonBody.Present(body.Root, "duration") is not { } d) return null;
        var text = d.ValueKind switch
        {
            JsonValueKind.String => d.GetString(),
            JsonValueKind.Number => d.GetRawText(),
            _ => null,
        };
        return text is "5" or "10" ? text : throw KlingError.Invalid("duration must be \"5\" or \"10\"");
    }

    private static string? ReadAspectRatio(JsonBody body)
    {
        var ratio = body.OptString("aspect_ratio", 8);
        if (ratio != null && !AspectRatios.Contains(ratio)) throw KlingError.Invalid($"aspect_ratio must be one of {string.Join(", ", AspectRatios)}");
        return ratio;
    }

    private static string? ReadCameraControl(JsonBody body)
    {
        if (body.OptObject("camera_control") is not { } cc) return null;
        var type = JsonBody.OptString(cc, "type", "camera_control.type", 32);
        if (type != null && !CameraTypes.Contains(type))
            throw KlingError.Invalid($"camera_control.type must be one of {string.Join(", ", CameraTypes)}");
        if (JsonBody.Present(cc, "config") is { } config)
        {
            if (config.ValueKind != JsonValueKind.Object) throw KlingError.Invalid("camera_control.config must be an object");
            foreach (var axis in CameraAxes) JsonBody.OptNumber(config, axis, $"camera_control.config.{axis}", -10, 10);
        }
        return cc.GetRawText();
    }

    private static string? ReadCallbackUrl(JsonBody body)
    {
        var url = body.OptString("callback_url", 2000);
        if (url == null) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw KlingError.Invalid("callback_url must be an http or https URL");
        return url;
    }

    private static PlacementInput? ReadPlacement(JsonBody body)
    {
        if (body.OptObject("placement") is not { } p) return null;
        return new PlacementInput(
            JsonBody.ReqNumber(p, "x", "placement.x", 0, 1),
            JsonBody.ReqNumber(p, "y", "placement.y", 0, 1),
            JsonBody.OptNumber(p, "scale", "placement.scale", 0.02, 1) ?? 0.35);
    }
}
