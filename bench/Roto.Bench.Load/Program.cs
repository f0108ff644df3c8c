using System.Text;
using Roto.Bench.Load;
using Roto.TestSupport;

LoadOptions o;
try { o = LoadOptions.Parse(args); }
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

var work = Path.Combine(Path.GetTempPath(), $"roto-bench-load-{Guid.NewGuid():N}");
Directory.CreateDirectory(work);
var clipPath = o.Clip ?? MakeClip(work);
var clip = await File.ReadAllBytesAsync(clipPath);

ServerHost? host = null;
var keys = o.Keys;
var baseUrl = o.BaseUrl;
var pid = o.Pid;
if (o.Start)
{
    keys = Enumerable.Range(0, o.Accounts).Select(i => $"load-account-{i}-{Guid.NewGuid():N}").ToList();
    Console.WriteLine($"starting ./run.sh on port {o.Port} with {keys.Count} keys (log: {work}/server.log) ...");
    host = await ServerHost.StartAsync(RepoRoot(), keys, o.Port, o.Profile, Path.Combine(work, "server.log"), o.ServerEnv);
    baseUrl = host.BaseUrl;
    pid = host.Pid;
}

try
{
    var poll = TimeSpan.FromMilliseconds(o.PollMs);
    // One flow first, not measured: loads the models and JIT-compiles the server, as any first user would.
    Console.WriteLine("warm-up flow ...");
    var warm = new Stats();
    await new AccountFlow(baseUrl!, keys[0], clip, warm, poll).RunOnceAsync();
    if (warm.Errors > 0)
    {
        Console.Error.WriteLine($"the warm-up flow failed: {string.Join("\n", warm.ErrorSamples)}");
        return 1;
    }

    var stats = new Stats();
    var samples = new List<(double Seconds, double MiB)>();
    var load0 = File.ReadAllText("/proc/loadavg").Trim();
    var started = DateTime.UtcNow;
    var until = started + TimeSpan.FromMinutes(o.Minutes);
    Console.WriteLine($"{o.Accounts} accounts for {o.Minutes} min against {baseUrl} (clip {clipPath}, {clip.Length / 1024} KiB); load average {load0}");
    using var stopSampling = new CancellationTokenSource();
    var sampler = pid is { } p ? SampleAsync(p, started, samples, stopSampling.Token) : Task.CompletedTask;
    var accounts = Enumerable.Range(0, o.Accounts).Select(i => new AccountFlow(baseUrl!, keys[i], clip, stats, poll).RunAsync(until)).ToArray();
    var progress = Task.Run(async () =>
    {
        while (!accounts.All(a => a.IsCompleted))
        {
            await Task.Delay(TimeSpan.FromSeconds(30));
            Console.WriteLine($"  {(DateTime.UtcNow - started).TotalSeconds:0} s: {stats.Flows} flows, {stats.Errors} errors, {stats.Backoffs} back-offs" +
                              (samples.Count > 0 ? $", RSS {samples[^1].MiB:0} MiB" : ""));
        }
    });
    await Task.WhenAll(accounts);
    var elapsed = DateTime.UtcNow - started;
    await stopSampling.CancelAsync();
    await sampler;
    await progress;
    var load1 = File.ReadAllText("/proc/loadavg").Trim();

    var report = new StringBuilder();
    report.AppendLine($"## Roto load: {(o.Soak ? "soak" : "load")}, {o.Accounts} accounts, {o.Minutes} min (+ flows in progress: {elapsed.TotalMinutes:0.00} min in all)");
    report.AppendLine();
    report.AppendLine($"command: `{string.Join(' ', args)}`; load average at start `{load0}`, at end `{load1}`; {Environment.ProcessorCount} cores");
    report.AppendLine();
    report.AppendLine($"flows completed: {stats.Flows}, failed: {stats.FailedFlows}; throughput {stats.Flows / elapsed.TotalMinutes:0.00} flows/min; " +
                      $"errors {stats.Errors}; 429 back-offs {stats.Backoffs}");
    report.AppendLine();
    report.AppendLine(stats.Table());
    foreach (var e in stats.ErrorSamples) report.AppendLine($"- error: {e}");
    if (samples.Count > 0)
    {
        report.AppendLine();
        report.AppendLine($"server RSS (pid {pid}), sampled every 10 s from /proc/{pid}/status:");
        report.AppendLine();
        report.AppendLine("| t (s) | RSS (MiB) |");
        report.AppendLine("|---|---|");
        foreach (var (s, m) in samples) report.AppendLine($"| {s:0} | {m:0.0} |");
        var afterFirstMinute = samples.FirstOrDefault(x => x.Seconds >= 60);
        var end = samples.LastOrDefault(x => x.Seconds <= o.Minutes * 60 + 5);
        if (afterFirstMinute.Seconds > 0 && end.Seconds > afterFirstMinute.Seconds)
        {
            var change = (end.MiB - afterFirstMinute.MiB) / afterFirstMinute.MiB * 100;
            report.AppendLine();
            report.AppendLine($"RSS after the first minute {afterFirstMinute.MiB:0.0} MiB (t={afterFirstMinute.Seconds:0} s), at the end {end.MiB:0.0} MiB (t={end.Seconds:0} s): " +
                              $"{change:+0.0;-0.0} %; peak {samples.Max(x => x.MiB):0.0} MiB");
            if (o.Soak)
                report.AppendLine($"bar (0 errors, end within 10 % of the first minute): {(stats.Errors == 0 && Math.Abs(change) <= 10 ? "met" : "NOT met")}");
        }
    }
    Console.WriteLine();
    Console.WriteLine(report);
    if (o.Out != null) await File.WriteAllTextAsync(o.Out, report.ToString());
    return stats.Errors == 0 ? 0 : 1;
}
finally
{
    host?.Dispose();
    try { Directory.Delete(work, recursive: true); } catch (IOException) { }
}

static async Task SampleAsync(int pid, DateTime started, List<(double, double)> samples, CancellationToken ct)
{
    try
    {
        while (true)
        {
            if (ServerHost.RssMiB(pid) is { } mib) lock (samples) samples.Add(((DateTime.UtcNow - started).TotalSeconds, mib));
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
        }
    }
    catch (OperationCanceledException) { }
}

// A light, real flow: 2.5 s of 01_dog.mp4 at 1280x720 (inside Kling's limits), re-encoded so the cut is exact.
static string MakeClip(string dir)
{
    var path = Path.Combine(dir, "dog-2.5s-720p.mp4");
    TestData.Ffmpeg("-i", TestData.Clip("01_dog.mp4"), "-t", "2.5", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", path);
    return path;
}

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Roto.slnx")) && File.Exists(Path.Combine(dir.FullName, "run.sh"))) return dir.FullName;
    throw new DirectoryNotFoundException("run.sh not found above the bench's output folder");
}
