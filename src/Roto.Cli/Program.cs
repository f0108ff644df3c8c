namespace Roto.Cli;

/// <summary>The <c>roto</c> executable. Named so it cannot clash with the server's <c>Program</c> where both are referenced.</summary>
public static class EntryPoint
{
    /// <summary>Runs the command line against the console, environment and network.</summary>
    public static Task<int> Main(string[] args) => RotoCli.RunAsync(args, CliHost.FromProcess());
}
