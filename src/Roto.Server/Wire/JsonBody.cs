using System.Globalization;
using System.Text.Json;
using Roto.Core;

namespace Roto.Server.Wire;

/// <summary>
/// Reads a request's JSON object and its fields with Kling's error rules: malformed JSON is 1200, a missing or
/// invalid field is 1201 naming the field, and "", null and [] count as absent (decision 6). Written over
/// JsonElement rather than bound to DTOs because binding errors cannot name the field in Kling's words.
/// </summary>
public sealed class JsonBody
{
    private readonly JsonElement _root;

    private JsonBody(JsonElement root) => _root = root;

    public static async Task<JsonBody> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 32 }, ct);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new KlingError(KlingCodes.BadRequest, "the request body must be a JSON object");
            return new JsonBody(doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new KlingError(KlingCodes.BadRequest, $"the request body is not valid JSON: {ex.Message.Split('.')[0]}");
        }
    }

    public JsonElement Root => _root;

    /// <summary>The field's value unless it is absent, null, "" or [].</summary>
    public static JsonElement? Present(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String when v.GetString()!.Length == 0 => null,
            JsonValueKind.Array when v.GetArrayLength() == 0 => null,
            _ => v,
        };
    }

    public string? OptString(string name, int maxLength = 10_000) => OptString(_root, name, name, maxLength);

    public static string? OptString(JsonElement obj, string name, string path, int maxLength = 10_000)
    {
        if (Present(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String) throw KlingError.Invalid($"{path} must be a string");
        var s = v.GetString()!;
        if (s.Length > maxLength) throw KlingError.Invalid($"{path} must be at most {maxLength} characters (got {s.Length})");
        return s;
    }

    public string ReqString(string name, int maxLength = 10_000) =>
        OptString(name, maxLength) ?? throw KlingError.Invalid($"{name} is required");

    public int? OptInt(string name, int min, int max) => OptInt(_root, name, name, min, max);

    public static int? OptInt(JsonElement obj, string name, string path, int min, int max)
    {
        if (Present(obj, name) is not { } v) return null;
        long value;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n)) value = n;
        else if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15) value = (long)d;
        else if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) value = parsed;
        else throw KlingError.Invalid($"{path} must be an integer");
        if (value < min || value > max) throw KlingError.Invalid($"{path} must be between {min} and {max} (got {value})");
        return (int)value;
    }

    public int ReqInt(string name, int min, int max) => OptInt(name, min, max) ?? throw KlingError.Invalid($"{name} is required");

    public static double? OptNumber(JsonElement obj, string name, string path, double min, double max)
    {
        if (Present(obj, name) is not { } v) return null;
        double value;
        if (v.ValueKind == JsonValueKind.Number) value = v.GetDouble();
        // "NaN" and "Infinity" parse as doubles but are no number a client meant: a type error, not a range error.
        else if (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            && double.IsFinite(parsed)) value = parsed;
        else throw KlingError.Invalid($"{path} must be a number");
        if (value < min || value > max) throw KlingError.Invalid($"{path} must be between {min} and {max} (got {value.ToString(CultureInfo.InvariantCulture)})");
        return value;
    }

    public static double ReqNumber(JsonElement obj, string name, string path, double min, double max) =>
        OptNumber(obj, name, path, min, max) ?? throw KlingError.Invalid($"{path} is required");

    public bool? OptBool(JsonElement obj, string name, string path)
    {
        if (Present(obj, name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw KlingError.Invalid($"{path} must be true or false"),
        };
    }

    public JsonElement? OptObject(string name)
    {
        if (Present(_root, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Object) throw KlingError.Invalid($"{name} must be an object");
        return v;
    }

    public JsonElement? OptArray(string name)
    {
        if (Present(_root, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Array) throw KlingError.Invalid($"{name} must be an array");
        return v;
    }
}
