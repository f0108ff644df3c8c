namespace Roto.Core.Cluster;

/// <summary>
/// This process's name in the database: the owner written on every task, callback and lease it claims. Host and pid
/// make logs readable; the random part keeps a restarted process (same pid in a container) from passing for its
/// predecessor and writing over a lease that predecessor lost.
/// </summary>
public sealed class Instance
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
