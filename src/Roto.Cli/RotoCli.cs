using System.CommandLine;
using Roto.Cli.Commands;
using Roto.Client;
using Roto.Client.Http;

namespace Roto.Cli;

/// <summary>The <c>roto</c> command line: parses, runs one command, maps failures to <see cref="ExitCodes"/>.</summary>
public static class RotoCli
{
    /// <summary>Runs the command line in <paramref name="args"/> against <paramref name="host"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken cancellationToken = default)
    {
        var global = new GlobalOptions();
        var root = new RootCommand(
            "roto: select an element in a video, then remove, swap or add one, through a Roto (or Kling) server.\n"
            + "Results go to stdout, progress and errors to stderr. Exit codes: 0 ok, 1 API error, 2 usage error, "
            + "3 timed out waiting, 4 task failed or has no result, 5 server unreachable, 130 cancelled.");
        global.AddTo(root);
        foreach (var command in (Command[])[
            UploadCommand.Build(host, global),
            InitCommand.Build(host, global),
            SelectCommand.Build(host, global),
            PreviewCommand.Build(host, global),
            EditCommand.Build(host, global),
            WaitCommand.Build(host, global),
            TasksCommand.Build(host, global),
            DownloadCommand.Build(host, global),
            RemoveCommand.Build(host, global),
        ])
            root.Subcommands.Add(command);

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await host.Err.WriteLineAsync($"roto: {error.Message}");
            await host.Err.WriteLineAsync("Try 'roto --help'.");
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration
        {
            Output = host.Out,
            Error = host.Err,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = host.HandleTermination ? TimeSpan.FromSeconds(2) : null,
        };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>Wraps a command body: builds the session, maps exceptions to exit codes and one-line messages.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Action(
        CliHost host, GlobalOptions global, Func<CliSession, ParseResult, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            CliSession? session = null;
            try
            {
                session = CliSession.Create(host, global, parse);
                return await body(session, parse, cancellationToken);
            }
            catch (CliUsageException e) { return Fail(host, ExitCodes.Usage, e.Message); }
            catch (FileNotFoundException e) { return Fail(host, ExitCodes.Usage, e.Message); }
            catch (DirectoryNotFoundException e) { return Fail(host, ExitCodes.Usage, e.Message); }
            catch (RotoApiException e)
            {
                return Fail(host, ExitCodes.ApiError,
                    $"error {e.Code} (HTTP {(int)e.HttpStatus}): {e.ServerMessage}" + (e.RequestId is null ? "" : $" [request_id {e.RequestId}]"));
            }
            catch (RotoWaitTimeoutException e) { return Fail(host, ExitCodes.Timeout, e.Message); }
            catch (RotoTaskFailedException e) { return Fail(host, ExitCodes.TaskFailed, e.Message); }
            catch (NoResultException e) { return Fail(host, ExitCodes.TaskFailed, e.Message); }
            catch (HttpRequestException e) when (RotoResilience.IsNobodyThere(e))
            {
                return Fail(host, ExitCodes.Unreachable,
                    $"cannot reach the server at {session?.BaseUrl}: {e.Message}. Is it running? (set the URL with --base-url or ROTO_BASE_URL)");
            }
            catch (HttpRequestException e) { return Fail(host, ExitCodes.Unreachable, $"cannot reach the server at {session?.BaseUrl}: {e.Message}"); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return Fail(host, ExitCodes.Cancelled, "cancelled"); }
            catch (OperationCanceledException e) { return Fail(host, ExitCodes.Unreachable, $"request timed out: {e.Message}"); }
            catch (UriFormatException e) { return Fail(host, ExitCodes.Usage, e.Message); }
            catch (UnauthorizedAccessException e) { return Fail(host, ExitCodes.Usage, e.Message); }
            catch (IOException e) { return Fail(host, ExitCodes.Unreachable, $"transfer failed: {e.Message}"); }
            catch (Exception e) { return Fail(host, ExitCodes.ApiError, $"unexpected error: {e.Message}"); }
            finally { session?.Dispose(); }
        };

    private static int Fail(CliHost host, int code, string message)
    {
        host.Err.WriteLine($"roto: {message}");
        return code;
    }
}

/// <summary>A task has nothing to download (not finished yet, or finished without a video).</summary>
internal sealed class NoResultException(string message) : Exception(message);
