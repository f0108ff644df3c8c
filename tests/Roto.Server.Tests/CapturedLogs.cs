using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Roto.Server.Tests;

/// <summary>
/// Every log entry the server writes, kept in memory for assertions: the formatted message, the structured values,
/// the exception and the scopes (request ids) — everything a log sink would see.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    public sealed record Entry(LogLevel Level, string Category, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values,
        string? Exception, IReadOnlyList<string> Scopes)
    {
        /// <summary>All of the entry as one string, for "never appears" checks.</summary>
        public string Text => string.Join('\n', [Category, Message, .. Values.Select(v => $"{v.Key}={v.Value}"), Exception ?? "", .. Scopes]);
    }

    private readonly ConcurrentQueue<Entry> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    /// <summary>Makes these the server's only logs (no console output from the test host).</summary>
    public void Install(IServiceCollection services)
    {
        services.RemoveAll<ILoggerProvider>();
        services.AddSingleton<ILoggerProvider>(this);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
    public void Dispose() { }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            var scopes = new List<string>();
            owner._scopes.ForEachScope((scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs) list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
                else if (scope is IEnumerable<KeyValuePair<string, object>> objects) list.AddRange(objects.Select(p => $"{p.Key}={p.Value}"));
                else list.Add(scope?.ToString() ?? "");
            }, scopes);
            owner._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), values.ToList(), exception?.ToString(), scopes));
        }
    }
}
