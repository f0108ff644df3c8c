namespace Roto.Core.Storage;

/// <summary>
/// The bytes of stored files, by key (kind/yyyyMMdd/id.ext). Who owns a file and when it expires is recorded in the
/// database by <see cref="FileStore"/>; this knows only where the bytes are. New files are written as scratch files
/// first (<see cref="TempPath"/>) and put in place whole (<see cref="CommitAsync"/>), so a reader never sees half a file.
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// A local path holding the key's bytes, for the tools that open paths (ffmpeg, OpenCV). Throws
    /// <see cref="KlingError.NotFound"/> for a key that would leave the store or carries control characters.
    /// </summary>
    string PathOf(string key);

    bool Exists(string key);

    /// <summary>The key's bytes, open for reading (and seeking, for range requests), or null when there are none.</summary>
    StoredContent? OpenRead(string key);

    /// <summary>
    /// A new scratch file's path on the store's own disk, where every new file starts. Throws
    /// <see cref="InsufficientStorageException"/> when the disk is below its free-space floor.
    /// </summary>
    string TempPath(string extension);

    /// <summary>Throws <see cref="InsufficientStorageException"/> when writing this many more bytes would cross the floor.</summary>
    void EnsureFreeSpace(long bytesToWrite = 0);

    /// <summary>Puts a finished file at its key at once, replacing what was there; the file leaves <paramref name="path"/>.</summary>
    Task CommitAsync(string path, string key, CancellationToken ct);

    /// <summary>Writes <paramref name="content"/> at its key at once: readers see the old bytes or all of the new ones.</summary>
    Task WriteAsync(string key, Stream content, CancellationToken ct);

    /// <summary>Removes the key's bytes if there are any; a failure is left for the orphan sweep.</summary>
    void Delete(string key);

    /// <summary>
    /// Removes the scratch files of processes that are gone, and files older than <paramref name="grace"/> whose keys
    /// <paramref name="recordedKeys"/> does not name (left by a crash). Returns how many files it removed. The records
    /// are asked for only after the files were looked at: <see cref="FileStore.AdoptAsync"/> records a file before it
    /// puts it in place, so every file the scan saw is recorded by then.
    /// </summary>
    Task<int> DeleteOrphansAsync(TimeSpan grace, Func<CancellationToken, Task<IReadOnlySet<string>>> recordedKeys, CancellationToken ct);
}

/// <summary>A stored file open for reading; the caller disposes <see cref="Content"/>.</summary>
public sealed record StoredContent(Stream Content, DateTimeOffset LastModified);
