using System.Diagnostics;
using System.Text;

namespace Roto.Media;

/// <summary>Runs a child process to completion with a deadline; the child is killed on timeout or cancellation.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>The signal that ended the child, when one did (a crash, or a kill from outside).</summary>
        public int? Signal => SignalOf(ExitCode);
    }

    /// <summary>
    /// .NET reports a child ended by signal N as exit code 128 + N on Unix; the tools themselves exit with small codes.
    /// </summary>
    public static int? SignalOf(int exitCode) => !OperatingSystem.IsWindows() && exitCode is > 128 and <= 128 + 64 ? exitCode - 128 : null;

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        using var process = new Process { StartInfo = StartInfo(file, args, redirectStdin: false) };
        var stdout = new StringBuilder();
        var stderr = new TailBuffer(16_384);
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) stderr.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            throw new MediaToolException(Path.GetFileName(file), ToolFailure.NotStarted, $"could not start {Path.GetFileName(file)}: {ex.Message}", ex);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            ct.ThrowIfCancellationRequested();
            var tool = Path.GetFileName(file);
            throw new MediaToolException(tool, ToolFailure.TimedOut, $"{tool} did not finish within {timeout.TotalSeconds:0.#} s and was stopped");
        }
        process.WaitForExit(); // drains the asynchronous readers
        lock (stdout) return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, bool redirectStdin)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                // SIGKILL cannot be ignored; waiting makes "killed" true when the caller reports it.
                process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    /// <summary>Keeps the last characters of a child's stderr: enough to explain a failure, bounded in memory.</summary>
    public sealed class TailBuffer(int capacity)
    {
        private readonly StringBuilder _sb = new();

        public void AppendLine(string line)
        {
            lock (_sb)
            {
                _sb.AppendLine(line);
                if (_sb.Length > capacity * 2) _sb.Remove(0, _sb.Length - capacity);
            }
        }

        public override string ToString()
        {
            lock (_sb) return _sb.Length > capacity ? _sb.ToString(_sb.Length - capacity, capacity) : _sb.ToString();
        }
    }
}
