using Spectre.Console;

namespace Roto.Cli;

/// <summary>
/// What the command line runs against: its output streams, environment and network. The process uses the real
/// ones; tests pass writers, a dictionary and an in-process server's handler.
/// </summary>
public sealed class CliHost
{
    /// <summary>Results: ids, URLs, paths, tables, JSON.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Progress, notes and error messages.</summary>
    public required TextWriter Err { get; init; }

    /// <summary>Environment variable lookup.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = _ => null;

    /// <summary>Makes the innermost HTTP handler for each client; the network when null.</summary>
    public Func<HttpMessageHandler>? CreateHandler { get; init; }

    /// <summary>Whether stderr is a terminal that can show live progress bars.</summary>
    public bool Interactive { get; init; }

    /// <summary>Whether stdout is a terminal (tables then fit its width).</summary>
    public bool OutIsTerminal { get; init; }

    /// <summary>Whether Ctrl+C should cancel the running command (only for the real process).</summary>
    public bool HandleTermination { get; init; }

    /// <summary>The real process: console streams, process environment, sockets.</summary>
    public static CliHost FromProcess() => new()
    {
        Out = Console.Out,
        Err = Console.Error,
        GetEnvironmentVariable = Environment.GetEnvironmentVariable,
        Interactive = !Console.IsErrorRedirected,
        OutIsTerminal = !Console.IsOutputRedirected,
        HandleTermination = true,
    };

    internal IAnsiConsole CreateConsole(TextWriter writer, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        // Redirected output has no width; without this, tables would wrap ids at 80 columns.
        if (!interactive) console.Profile.Width = 240;
        return console;
    }
}
