using Microsoft.Data.Sqlite;

namespace Roto.Crash.Tests;

/// <summary>
/// Reads a data directory the way an operator would judge it after a crash: which tasks are in which state, and
/// which files on disk no session, task or upload owns. Read-only; the server may be running.
/// </summary>
public sealed class DataDirAudit(string dataDir)
{
    private string Files => Path.Combine(dataDir, "files");

    public sealed record TaskRow(string Id, string Status, string Message, int Attempts);

    public List<TaskRow> Tasks() => Query("SELECT Id, Status, StatusMessage, Attempts FROM Tasks",
        r => new TaskRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3)));

    /// <summary>
    /// Files that nothing owns: on disk without a record, recorded for a session or task that does not exist, and
    /// anything in a temporary folder besides a live process's lock file. Empty when the data directory is clean.
    /// </summary>
    public List<string> UnownedFiles()
    {
        var sessions = Query("SELECT Id FROM Sessions", r => r.GetString(0)).ToHashSet();
        var tasks = Query("SELECT Id FROM Tasks", r => r.GetString(0)).ToHashSet();
        var records = Query("SELECT Key, Kind, OwnerId FROM Files", r => (Key: r.GetString(0), Kind: r.GetString(1), Owner: r.GetString(2)))
            .ToDictionary(f => f.Key);
        var problems = new List<string>();
        foreach (var path in Directory.EnumerateFiles(Files, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(Files, path).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith("tmp/", StringComparison.Ordinal))
            {
                // A temporary file that the server deletes while this looks is not one left behind.
                var file = new FileInfo(path);
                if (Path.GetFileName(key) != ".lock" && file.Exists) problems.Add($"{key} (temporary file, {file.Length} bytes)");
                continue;
            }
            if (!records.TryGetValue(key, out var record)) problems.Add($"{key} (no record)");
            else if (record.Kind is "normalized" or "preview" && !sessions.Contains(record.Owner)) problems.Add($"{key} (session {record.Owner} does not exist)");
            else if (record.Kind is "result" or "image" && !tasks.Contains(record.Owner)) problems.Add($"{key} (task {record.Owner} does not exist)");
        }
        return problems;
    }

    /// <summary>Instance temporary folders (one per process that ever ran and has not been swept).</summary>
    public int TempFolders() => Directory.Exists(Path.Combine(Files, "tmp")) ? Directory.GetDirectories(Path.Combine(Files, "tmp")).Length : 0;

    /// <summary>Files in temporary folders, the lock files left out.</summary>
    public List<string> TempFiles() => !Directory.Exists(Path.Combine(Files, "tmp")) ? [] :
        Directory.EnumerateFiles(Path.Combine(Files, "tmp"), "*", SearchOption.AllDirectories)
            .Where(p => Path.GetFileName(p) != ".lock").Select(p => Path.GetRelativePath(Files, p)).ToList();

    /// <summary>
    /// Leaves what a process killed right after storing a task's result, before marking the task done, would leave:
    /// a recorded result file owned by the task. Returns its path. (The window is too short to hit with a real kill.)
    /// </summary>
    public string PlantResultOfKilledAttempt(string taskId, string accountId)
    {
        var key = $"result/{DateTime.UtcNow:yyyyMMdd}/planted-{taskId}.mp4";
        var path = Path.Combine(Files, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[4096]);
        using var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "roto.db")};Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "INSERT INTO Files (Key, AccountId, Kind, OwnerId, ContentType, Size, CreatedAt, ExpiresAt) " +
                          "VALUES ($key, $account, 'result', $task, 'video/mp4', 4096, $now, $expires)";
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        cmd.Parameters.AddWithValue("$key", key);
        cmd.Parameters.AddWithValue("$account", accountId);
        cmd.Parameters.AddWithValue("$task", taskId);
        cmd.Parameters.AddWithValue("$now", now);
        cmd.Parameters.AddWithValue("$expires", now + 86_400_000);
        cmd.ExecuteNonQuery();
        return path;
    }

    public string AccountOf(string taskId) => Query($"SELECT AccountId FROM Tasks WHERE Id = '{taskId}'", r => r.GetString(0)).Single();

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "roto.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }
}
