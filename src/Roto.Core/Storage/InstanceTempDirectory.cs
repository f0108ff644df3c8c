namespace Roto.Core.Storage;

/// <summary>
/// The temporary folder of one running process: tmp/{instance}/ with a ".lock" file held open (an exclusive lock) for
/// the life of the process. A process killed with SIGKILL loses its lock with it, so the sweeper can tell a dead
/// process's half-written files from a live one's at once, without waiting for them to grow old, and without
/// guessing when several processes share the data directory.
/// </summary>
public sealed class InstanceTempDirectory : IDisposable
{
    public const string LockFileName = ".lock";
    private readonly FileStream _lock;

    private InstanceTempDirectory(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    public string Path { get; }

    /// <summary>Creates and locks a new instance folder under <paramref name="tempRoot"/>.</summary>
    public static InstanceTempDirectory Claim(string tempRoot)
    {
        var path = System.IO.Path.Combine(tempRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return new InstanceTempDirectory(path, OpenLock(path));
    }

    /// <summary>
    /// True when no live process holds the folder's lock. A folder without a lock file counts as abandoned only
    /// when it is older than <paramref name="grace"/> (a process may be between creating it and locking it).
    /// </summary>
    public static bool IsAbandoned(string path, TimeSpan grace)
    {
        var lockPath = System.IO.Path.Combine(path, LockFileName);
        if (!File.Exists(lockPath)) return Directory.GetLastWriteTimeUtc(path) < DateTime.UtcNow - grace;
        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    // FileShare.None takes an exclusive advisory lock (flock on Unix) that the kernel drops when the process dies.
    private static FileStream OpenLock(string path) =>
        new(System.IO.Path.Combine(path, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    public void Dispose() => _lock.Dispose();
}
