using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Roto.Crash.Tests;

/// <summary>
/// The real Roto server as a child process (its own build output, started with <c>dotnet Roto.Server.dll</c>) so that
/// it can be killed with SIGKILL exactly as an operator's <c>kill -9</c> would, and started again on the same data.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    public const string ApiKey = "crash-test-key";
    private readonly Process _process;
    private readonly StreamWriter _log;
    private bool _disposed;

    private ServerProcess(Process process, Uri baseAddress, StreamWriter log)
    {
        _process = process;
        BaseAddress = baseAddress;
        _log = log;
    }

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _disposed || _process.HasExited;

    /// <summary>Starts the server on <paramref name="dataDir"/> and waits until /health answers.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, string logPath, IReadOnlyDictionary<string, string>? settings = null)
    {
        var serverDir = ServerBuildDir();
        var port = FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = serverDir,
        };
        foreach (var a in (string[])[Path.Combine(serverDir, "Roto.Server.dll"), "--contentRoot", serverDir, "--urls", baseAddress.ToString().TrimEnd('/')])
            psi.ArgumentList.Add(a);
        psi.Environment["Roto__DataDir"] = dataDir;
        // Crash safety does not depend on the engine; the classical one needs no models and keeps these runs short.
        psi.Environment["Roto__Models__Engine"] = "classical";
        psi.Environment["Roto__ApiKeys__0"] = ApiKey;
        psi.Environment["Roto__Limits__Profile"] = "relaxed";
        psi.Environment["Roto__Limits__RequestsPerMinute"] = "0";
        psi.Environment["Roto__AllowPrivateNetworks"] = "true";
        psi.Environment["Roto__SweepInterval"] = "00:00:01";
        psi.Environment["Roto__OrphanFileAge"] = "00:00:02";
        // A killed server's task is taken up again once its lease lapses: short here, so a restart finds it lapsed.
        psi.Environment["Roto__TaskLease"] = "00:00:03";
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        psi.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) psi.Environment[k] = v;

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        await log.WriteLineAsync($"--- start {DateTime.UtcNow:O} on {baseAddress}");
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, baseAddress, log);

        using var probe = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // drains the output handlers into the log
                throw new InvalidOperationException($"the server exited with {process.ExitCode} while starting; the end of its log:\n{Tail(logPath, log)}");
            }
            try
            {
                using var response = await probe.GetAsync("health");
                if (response.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline)
            {
                server.Kill9();
                throw new TimeoutException($"the server did not answer /health within 90 s; see {logPath}");
            }
            await Task.Delay(200);
        }
    }

    private static string Tail(string logPath, StreamWriter log)
    {
        lock (log) log.Flush();
        using var reader = new StreamReader(new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(40));
    }

    public HttpClient Client(TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
        return client;
    }

    /// <summary>SIGKILL to the server process alone, as <c>kill -9 PID</c>: no shutdown code runs, its ffmpeg children are orphaned.</summary>
    public void Kill9()
    {
        if (HasExited) return;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
        lock (_log) _log.WriteLine($"--- SIGKILL {DateTime.UtcNow:O}");
    }

    public void Dispose()
    {
        if (_disposed) return;
        Kill9();
        _disposed = true;
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    /// <summary>src/Roto.Server/bin/{same configuration as this test}/net10.0 of this checkout.</summary>
    private static string ServerBuildDir()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = here.Parent!.Name; // bin/{Configuration}/net10.0/
        for (var dir = here; dir != null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Roto.slnx"))) continue;
            var serverDir = Path.Combine(dir.FullName, "src", "Roto.Server", "bin", configuration, here.Name);
            if (File.Exists(Path.Combine(serverDir, "Roto.Server.dll"))) return serverDir;
            throw new FileNotFoundException($"Roto.Server is not built at {serverDir}");
        }
        throw new DirectoryNotFoundException("the checkout (Roto.slnx) was not found above the test output");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
