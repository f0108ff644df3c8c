using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Roto.Core.Data;

/// <summary>What a provider's exception means, so that nothing above Core needs to know which database is in use.</summary>
public static class DbErrors
{
    /// <summary>
    /// The database was too busy to answer in time: SQLite locked past its busy timeout (SQLITE_BUSY 5, SQLITE_LOCKED
    /// 6), or PostgreSQL out of connections, a lock wait given up or a serialization failure. Worth a retry later.
    /// </summary>
    public static bool IsBusy(Exception e)
    {
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            if (x is SqliteException { SqliteErrorCode: 5 or 6 }) return true;
            if (x is PostgresException { SqlState: "53300" or "55P03" or "40001" or "40P01" or "57014" }) return true;
            if (x is NpgsqlException { InnerException: TimeoutException }) return true;
        }
        return false;
    }

    /// <summary>
    /// Another writer got there first: a concurrency token that no longer matched, or a unique key the other writer
    /// has just taken. The loser reads again and retries.
    /// </summary>
    public static bool IsConflict(Exception e)
    {
        if (e is DbUpdateConcurrencyException) return true;
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555); PostgreSQL unique_violation.
            if (x is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 }) return true;
            if (x is PostgresException { SqlState: "23505" }) return true;
        }
        return false;
    }
}
