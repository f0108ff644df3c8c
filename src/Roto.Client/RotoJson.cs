using System.Text.Json;
using System.Text.Json.Serialization;

namespace Roto.Client;

/// <summary>The wire's JSON conventions: snake_case names, absent rather than null fields, lenient numbers.</summary>
public static class RotoJson
{
    /// <summary>Serializer options matching the wire format.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
