namespace Roto.Core;

/// <summary>
/// A failure the client must hear about, with its Kling service code (spec §3.4). The server maps the code to the
/// HTTP status; Core only knows codes.
/// </summary>
public sealed class KlingError(int code, string message) : Exception(message)
{
    public int Code { get; } = code;

    public static KlingError Invalid(string message) => new(KlingCodes.InvalidParameter, message);
    public static KlingError NotFound(string message) => new(KlingCodes.NotFound, message);
}

public static class KlingCodes
{
    public const int AuthFailed = 1000;
    public const int AuthMissing = 1001;
    public const int AuthInvalid = 1002;
    public const int AuthNotYetValid = 1003;
    public const int AuthExpired = 1004;
    public const int BadRequest = 1200;
    public const int InvalidParameter = 1201;
    public const int InvalidMethod = 1202;
    public const int NotFound = 1203;
    public const int RateLimited = 1302;
    public const int ConcurrencyLimited = 1303;
    public const int Internal = 5000;
    public const int Unavailable = 5001;
    public const int Timeout = 5002;
}
