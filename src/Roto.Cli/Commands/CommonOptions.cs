using System.CommandLine;

namespace Roto.Cli.Commands;

/// <summary>Options several commands share, made fresh per command (an option belongs to one parent).</summary>
internal static class CommonOptions
{
    public static Option<string?> Output(string description, bool required = false) => new("--output", "-o")
    {
        Description = description,
        Required = required,
    };

    public static Option<double> Timeout() => new("--timeout")
    {
        Description = "Seconds to wait for the task before giving up (exit code 3)",
        DefaultValueFactory = _ => 900,
    };

    public static Option<double> Interval() => new("--interval")
    {
        Description = "Seconds between two polls of the task",
        DefaultValueFactory = _ => 2,
    };

    public static Option<int> Frame(bool required) => new("--frame")
    {
        Description = "0-based index of the frame the points are on",
        Required = required,
    };

    public static Option<string[]> Points(string name, string description) => new(name)
    {
        Description = description,
        AllowMultipleArgumentsPerToken = false,
    };

    public static TimeSpan Seconds(double value, string option) =>
        value > 0 && double.IsFinite(value) ? TimeSpan.FromSeconds(value) : throw new CliUsageException($"{option} must be a positive number of seconds");

    /// <summary>A frame index that can exist in some video; the upper bound is the session's, checked by the server.</summary>
    public static int FrameIndex(int value) =>
        value >= 0 ? value : throw new CliUsageException($"--frame {value} is negative; frames are counted from 0");

    /// <summary>
    /// Refuses an output path that cannot be written (its folder is missing, or it names a folder) before any request,
    /// so that a long task is not run only to fail at the download.
    /// </summary>
    public static string? OutputPath(string? path, string option = "--output")
    {
        if (path is null) return null;
        if (Directory.Exists(path)) throw new CliUsageException($"{option} '{path}' is a folder; give a file name");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder)) throw new CliUsageException($"{option} '{path}': folder {folder} does not exist");
        return path;
    }

    /// <summary>An http(s) URL, or a usage error naming the option.</summary>
    public static string? HttpUrl(string? value, string option) =>
        value is null || (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            ? value
            : throw new CliUsageException($"{option} '{value}' is not an http(s) URL");
}
