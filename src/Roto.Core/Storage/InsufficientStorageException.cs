namespace Roto.Core.Storage;

/// <summary>
/// The data directory's disk is below its free-space floor (Roto:Limits:MinFreeDiskBytes). An IOException, and its
/// message speaks of disk space, so a task that meets it fails as "the server ran out of disk space".
/// </summary>
public sealed class InsufficientStorageException(long freeBytes, long minimumBytes, long bytesToWrite)
    : IOException($"the server is low on disk space: {Mb(freeBytes)} MB free, {Mb(minimumBytes)} MB must stay free"
        + (bytesToWrite > 0 ? $" after writing {Mb(bytesToWrite)} MB" : ""))
{
    public long FreeBytes { get; } = freeBytes;
    public long MinimumBytes { get; } = minimumBytes;

    private static string Mb(long bytes) => (bytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
