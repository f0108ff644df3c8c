using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Roto.Vision.Removal;

/// <summary>
/// Where a removal spends its time, summed per stage across frames, for the benchmark's profile. On Linux it counts
/// the CPU time of the calling thread (steady on a machine that others load too); elsewhere wall time.
/// Thread-safe so stages running side by side can add to it.
/// </summary>
public sealed partial class RemovalTimings
{
    private readonly Dictionary<string, long> _nanoseconds = new();

    /// <summary>A reading of the clock, to pass to <see cref="Stop"/>.</summary>
    public long Start() => Now();

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="stage"/> and returns a new reading.</summary>
    public long Stop(string stage, long start)
    {
        var now = Now();
        lock (_nanoseconds) _nanoseconds[stage] = _nanoseconds.GetValueOrDefault(stage) + (now - start);
        return now;
    }

    public IReadOnlyList<(string Stage, double Seconds)> Seconds()
    {
        lock (_nanoseconds) return _nanoseconds.Select(kv => (kv.Key, kv.Value / 1e9)).ToList();
    }

    public override string ToString() => string.Join(", ", Seconds().Select(s => $"{s.Stage} {s.Seconds:F2} s"));

    private static long Now()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ThreadCpuClock, out var t) == 0) return t.Seconds * 1_000_000_000L + t.Nanoseconds;
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private const int ThreadCpuClock = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
