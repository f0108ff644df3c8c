using System.Diagnostics;
using System.Globalization;

namespace Roto.Bench.Load;

/// <summary>Starts Roto with ./run.sh (Release build, the given keys, a fresh data dir) and reads its resident memory.</summary>
public sealed class ServerHost : IDisposable
{
    private readonly Process _process;

    private ServerHost(Process process, string baseUrl, string dataDir)
    {
        _process = process;
        BaseUrl = baseUrl;
        DataDir = dataDir;
    }

    public string BaseUrl { get; }
    public string DataDir { get; }
    public int Pid => _process.Id;

    public static async Task<ServerHost> StartAsync(string repoRoot, IReadOnlyList<string> keys, int port, string profile, string logPath,
        IEnumerable<string> environment)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"roto-load-{Guid.NewGuid():N}");
        var baseUrl = $"http://127.0.0.1:{port}";
        var psi = new ProcessStartInfo(Path.Combine(repoRoot, "run.sh"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = repoRoot,
        };
        foreach (var a in new[] { "--urls", baseUrl, $"--Roto:DataDir={dataDir}", $"--Roto:Limits:Profile={profile}" }) psi.ArgumentList.Add(a);
        for (var i = 0; i < keys.Count; i++) psi.ArgumentList.Add($"--Roto:ApiKeys:{i}={keys[i]}");
        // Quiet request logs: the load would otherwise spend the server's CPU on the console.
        psi.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var pair in environment)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--server-env {pair}: expected NAME=VALUE");
            psi.Environment[pair[..eq]] = pair[(eq + 1)..];
        }

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10); // run.sh builds first
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"./run.sh exited with {process.ExitCode}; see {logPath}");
            try
            {
                using var r = await probe.GetAsync($"{baseUrl}/health");
                if (r.IsSuccessStatusCode) return new ServerHost(process, baseUrl, dataDir);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the server did not start; see {logPath}");
            await Task.Delay(500);
        }
    }

    /// <summary>VmRSS of a process in MiB, from /proc/PID/status; null when it is gone.</summary>
    public static double? RssMiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }
        catch (IOException) { }
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
