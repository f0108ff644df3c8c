using Roto.Core;

namespace Roto.Server.Wire;

/// <summary>Every response body: {code, message, request_id, data}.</summary>
public sealed record Envelope<T>(int Code, string Message, string RequestId, T? Data);

public static class Envelopes
{
    public const string Succeed = "SUCCEED";

    public static IResult Ok<T>(HttpContext http, T data) =>
        Results.Json(new Envelope<T>(0, Succeed, RequestIds.Of(http), data), WireJson.Options);

    public static IResult Error(HttpContext http, int code, string message) =>
        Results.Json(new Envelope<object>(code, message, RequestIds.Of(http), null), WireJson.Options, statusCode: KlingStatus.HttpStatusOf(code));

    /// <summary>Writes an error envelope straight to the response (for middleware, where no IResult pipeline runs).</summary>
    public static async Task WriteErrorAsync(HttpContext http, int code, string message)
    {
        if (http.Response.HasStarted) return;
        http.Response.Clear();
        http.Response.StatusCode = KlingStatus.HttpStatusOf(code);
        await http.Response.WriteAsJsonAsync(new Envelope<object>(code, message, RequestIds.Of(http), null), WireJson.Options);
    }
}

/// <summary>The HTTP status of each Kling service code (spec §3.4).</summary>
public static class KlingStatus
{
    public static int HttpStatusOf(int code) => code switch
    {
        0 => 200,
        >= 1000 and < 1100 => 401,
        1103 => 403,
        >= 1100 and < 1200 => 429,
        1202 or 1203 => 404,
        >= 1200 and < 1300 => 400,
        1302 or 1303 or 1304 => 429,
        >= 1300 and < 1400 => 400,
        5001 => 503,
        5002 => 504,
        _ => 500,
    };
}

/// <summary>One UUID per request: in the envelope, the X-Request-Id header and every log line of the request.</summary>
public static class RequestIds
{
    private const string Key = "roto.request_id";

    public static string Of(HttpContext http)
    {
        if (http.Items[Key] is string id) return id;
        id = Guid.NewGuid().ToString();
        http.Items[Key] = id;
        return id;
    }
}
