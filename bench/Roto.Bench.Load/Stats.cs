using System.Collections.Concurrent;

namespace Roto.Bench.Load;

/// <summary>Latencies and outcomes per endpoint, collected from all accounts at once.</summary>
public sealed class Stats
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> _latencyMs = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly ConcurrentDictionary<string, int> _backoffs = new();
    private readonly ConcurrentQueue<string> _errorSamples = new();
    private int _flows;
    private int _failedFlows;

    public int Flows => _flows;
    public int FailedFlows => _failedFlows;
    public int Errors => _errors.Values.Sum();
    public int Backoffs => _backoffs.Values.Sum();
    public IEnumerable<string> ErrorSamples => _errorSamples.Take(20);

    public static readonly string[] Endpoints = ["upload", "init-selection", "add-selection", "preview-selection", "create-task", "poll", "download", "task-turnaround", "flow"];

    public void Record(string endpoint, double ms) => _latencyMs.GetOrAdd(endpoint, _ => []).Add(ms);

    public void Error(string endpoint, string what)
    {
        _errors.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
        if (_errorSamples.Count < 100) _errorSamples.Enqueue($"{DateTime.UtcNow:HH:mm:ss} {endpoint}: {what}");
    }

    public void Backoff(string endpoint) => _backoffs.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
    public void FlowDone() => Interlocked.Increment(ref _flows);
    public void FlowFailed() => Interlocked.Increment(ref _failedFlows);

    public string Table()
    {
        var lines = new List<string>
        {
            "| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | errors | 429 back-offs |",
            "|---|---|---|---|---|---|---|---|",
        };
        foreach (var e in Endpoints)
        {
            var values = _latencyMs.TryGetValue(e, out var bag) ? bag.Order().ToArray() : [];
            lines.Add($"| {e} | {values.Length} | {P(values, 0.50)} | {P(values, 0.95)} | {P(values, 0.99)} | {(values.Length > 0 ? values[^1].ToString("0") : "-")} | " +
                      $"{_errors.GetValueOrDefault(e)} | {_backoffs.GetValueOrDefault(e)} |");
        }
        return string.Join('\n', lines);
    }

    /// <summary>Nearest-rank percentile.</summary>
    private static string P(double[] sorted, double q) =>
        sorted.Length == 0 ? "-" : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)].ToString("0");
}
