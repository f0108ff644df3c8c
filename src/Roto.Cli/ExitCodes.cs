namespace Roto.Cli;

/// <summary>Exit codes a script can rely on.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The API answered with an error (message shows code, HTTP status and request_id), or another unexpected failure.</summary>
    public const int ApiError = 1;

    /// <summary>Bad command line: unknown option, malformed point or URL, missing input file, unwritable output.</summary>
    public const int Usage = 2;

    /// <summary>A task did not finish within --timeout.</summary>
    public const int Timeout = 3;

    /// <summary>A task failed, or has no result to download.</summary>
    public const int TaskFailed = 4;

    /// <summary>The server could not be reached or a transfer broke off (connection refused, DNS, request timed out).</summary>
    public const int Unreachable = 5;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;
}

/// <summary>A problem with what the user typed; exits with <see cref="ExitCodes.Usage"/>.</summary>
public sealed class CliUsageException(string message) : Exception(message);
