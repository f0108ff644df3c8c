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
        value > 0 ? TimeSpan.FromSeconds(value) : throw new CliUsageException($"{option} must be positive");
}
