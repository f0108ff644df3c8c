using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Roto.Core.Data;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>A lost race on a unique key, which Roto handles by reading again, is not logged as an error by EF Core.</summary>
public sealed class DatabaseLogTests
{
    [Fact]
    public async Task A_unique_key_conflict_is_logged_by_ef_core_at_debug_level_only()
    {
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var dir = TestData.TempDir("roto-dblog");
        var options = new DbContextOptionsBuilder<SqliteRotoDb>()
            .UseSqlite(RotoDb.SqliteConnectionString(dir))
            .UseLoggerFactory(factory)
            .Options;
        try
        {
            await using (var db = new SqliteRotoDb(options))
            {
                await db.Database.MigrateAsync();
                db.FrameMasks.Add(new FrameMaskRecord { SessionId = "s1", FrameIndex = 3, ObjectId = 1, Counts = "4" });
                await db.SaveChangesAsync();
            }
            await using (var db = new SqliteRotoDb(options))
            {
                db.FrameMasks.Add(new FrameMaskRecord { SessionId = "s1", FrameIndex = 3, ObjectId = 1, Counts = "5" });
                var failure = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
                Assert.True(DbErrors.IsConflict(failure));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }

        var ef = logs.Entries.Where(e => e.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal)).ToList();
        Assert.Contains(ef, e => e.Level == LogLevel.Debug && e.Category == "Microsoft.EntityFrameworkCore.Database.Command" && e.Message.Contains("Failed executing DbCommand"));
        Assert.Contains(ef, e => e.Level == LogLevel.Debug && e.Category == "Microsoft.EntityFrameworkCore.Update" && e.Text.Contains("UNIQUE constraint failed"));
        Assert.DoesNotContain(ef, e => e.Level >= LogLevel.Warning);
    }
}
