using Microsoft.Extensions.Options;

namespace Roto.Core.Storage;

/// <summary>
/// Stored files as plain files under {DataDir}/files/{key}. Each process's scratch files live in files/tmp/{instance}/
/// (see <see cref="InstanceTempDirectory"/>), on the same disk, so putting a finished file in place is a rename.
/// </summary>
public sealed class LocalFileStore : IFileStore, IDisposable
{
    /// <summary>A file being written next to its key; the orphan sweep takes one that a crash left behind.</summary>
    private const string PartialSuffix = ".partial";
    private readonly IOptions<RotoOptions> _options;
    private readonly InstanceTempDirectory _temp;

    public LocalFileStore(IOptions<RotoOptions> options, DataDirectory dataDir)
    {
        _options = options;
        Root = Path.Combine(dataDir.Path, "files");
        Directory.CreateDirectory(Root);
        _temp = InstanceTempDirectory.Claim(TempParent);
    }

    public string Root { get; }
    /// <summary>Holds one folder per running process (see <see cref="InstanceTempDirectory"/>).</summary>
    private string TempParent => Path.Combine(Root, "tmp");
    /// <summary>This process's own temporary folder.</summary>
    private string TempRoot => _temp.Path;

    public string PathOf(string key)
    {
        // A NUL or other control character is never in a key Roto makes, and some file APIs cut or reject at it.
        if (string.IsNullOrEmpty(key) || key.Contains("..") || key.Contains('\\') || key.Any(char.IsControl) || Path.IsPathRooted(key))
            throw KlingError.NotFound("file not found");
        var full = Path.GetFullPath(Path.Combine(Root, key));
        if (!full.StartsWith(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw KlingError.NotFound("file not found");
        return full;
    }

    public bool Exists(string key) => File.Exists(PathOf(key));

    public StoredContent? OpenRead(string key)
    {
        var path = PathOf(key);
        try
        {
            // FileShare.Delete: the sweeper may remove a file while a slow client is still reading it.
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            return new StoredContent(stream, new DateTimeOffset(File.GetLastWriteTimeUtc(stream.SafeFileHandle)));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Every new file starts here, so this is where a disk short of space is noticed.</summary>
    public string TempPath(string extension)
    {
        EnsureFreeSpace();
        return Path.Combine(TempRoot, $"{Guid.NewGuid():N}{extension}");
    }

    public void EnsureFreeSpace(long bytesToWrite = 0)
    {
        var minimum = _options.Value.Limits.MinFreeDiskBytes;
        if (minimum <= 0) return;
        var free = new DriveInfo(Root).AvailableFreeSpace;
        if (free - bytesToWrite < minimum) throw new InsufficientStorageException(free, minimum, bytesToWrite);
    }

    public async Task CommitAsync(string path, string key, CancellationToken ct)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (IsInside(path, Root))
        {
            // Same disk: a rename, which no reader sees half done.
            File.Move(path, target, overwrite: true);
            return;
        }
        await using (var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous))
            await WriteAsync(key, source, ct);
        TempFiles.TryDelete(path);
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken ct)
    {
        var target = PathOf(key);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        // Written beside its key, on the same disk, then renamed over it: a crash leaves a .partial, never a short file.
        var partial = Path.Combine(folder, $".{Guid.NewGuid():N}{PartialSuffix}");
        try
        {
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
                await content.CopyToAsync(output, ct);
            File.Move(partial, target, overwrite: true);
        }
        finally
        {
            TempFiles.TryDelete(partial);
        }
    }

    public void Delete(string key) => TempFiles.TryDelete(PathOf(key));

    public async Task<int> DeleteOrphansAsync(TimeSpan grace, Func<CancellationToken, Task<IReadOnlySet<string>>> recordedKeys, CancellationToken ct) =>
        DeleteAbandonedTempFolders(grace) + await DeleteUnrecordedFilesAsync(grace, recordedKeys, ct);

    /// <summary>Releases this process's claim on its temporary folder; the next sweep removes what is left in it.</summary>
    public void Dispose() => _temp.Dispose();

    /// <summary>The temporary folders of processes that are gone (killed mid-upload, mid-init, mid-preview, mid-task).</summary>
    private int DeleteAbandonedTempFolders(TimeSpan grace)
    {
        var removed = 0;
        if (!Directory.Exists(TempParent)) return 0;
        foreach (var dir in Directory.EnumerateDirectories(TempParent))
        {
            if (string.Equals(Path.GetFullPath(dir), Path.GetFullPath(TempRoot), StringComparison.Ordinal)) continue;
            if (!InstanceTempDirectory.IsAbandoned(dir, grace)) continue;
            var count = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count(f => Path.GetFileName(f) != InstanceTempDirectory.LockFileName);
            try
            {
                Directory.Delete(dir, recursive: true);
                removed += count;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// Files with no record, older than <paramref name="grace"/>. Instance temporary folders are handled by their locks,
    /// not here. The records are read after the disk: <see cref="FileStore.AdoptAsync"/> records a file before moving it
    /// into place, so any file the scan saw is recorded by then, whereas records read before the scan miss a file adopted
    /// during it (and a moved file keeps the age it had in its temporary folder).
    /// </summary>
    private async Task<int> DeleteUnrecordedFilesAsync(TimeSpan grace, Func<CancellationToken, Task<IReadOnlySet<string>>> recordedKeys, CancellationToken ct)
    {
        var cutoff = DateTime.UtcNow - grace;
        var tempFolder = Path.GetFullPath(TempParent) + Path.DirectorySeparatorChar;
        var old = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var full = Path.GetFullPath(path);
            var inInstanceFolder = full.StartsWith(tempFolder, StringComparison.Ordinal)
                && Path.GetRelativePath(tempFolder, full).Contains(Path.DirectorySeparatorChar);
            if (inInstanceFolder || File.GetLastWriteTimeUtc(path) > cutoff) continue;
            old[Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/')] = path;
        }
        if (old.Count == 0) return 0;
        var known = await recordedKeys(ct);
        var removed = 0;
        foreach (var (key, path) in old)
        {
            if (known.Contains(key)) continue;
            TempFiles.TryDelete(path);
            removed++;
        }
        return removed;
    }

    private static bool IsInside(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
