using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Roto.Core.Data;

/// <summary>
/// Roto's only way into the database. Each provider has a subclass of its own so that each keeps its own migrations
/// (Migrations/Sqlite, Migrations/Postgres): EF Core ties a migration to one context type.
/// </summary>
public abstract class RotoDb(DbContextOptions options) : DbContext(options)
{
    public const string SweeperLease = "sweeper";

    public DbSet<SessionRecord> Sessions => Set<SessionRecord>();
    public DbSet<PointRecord> Points => Set<PointRecord>();
    public DbSet<FrameMaskRecord> FrameMasks => Set<FrameMaskRecord>();
    public DbSet<TaskRecord> Tasks => Set<TaskRecord>();
    public DbSet<StoredFileRecord> Files => Set<StoredFileRecord>();
    public DbSet<CallbackRecord> Callbacks => Set<CallbackRecord>();
    public DbSet<LeaseRecord> Leases => Set<LeaseRecord>();

    /// <summary>PostgreSQL: row locks with SKIP LOCKED and advisory locks; SQLite: one writer at a time.</summary>
    public bool IsPostgres => Database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>
    /// EF Core logs every failed command and save as an error, stack trace and all, before the exception reaches Roto.
    /// Roto handles some of them (a writer that lost a race reads again and retries, <see cref="DbErrors.IsConflict"/>)
    /// and logs every one it does not handle itself (the request's error handler, the workers), so EF Core's own
    /// entries are debug detail: at error level each handled race alarmed an operator twice.
    /// </summary>
    protected override void OnConfiguring(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Log((RelationalEventId.CommandError, LogLevel.Debug), (CoreEventId.SaveChangesFailed, LogLevel.Debug)));

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<SessionRecord>().HasIndex(s => s.AccountId);
        b.Entity<SessionRecord>().HasIndex(s => s.ExpiresAt);
        b.Entity<PointRecord>().HasIndex(p => new { p.SessionId, p.FrameIndex, p.ObjectId });
        b.Entity<FrameMaskRecord>().HasIndex(m => new { m.SessionId, m.FrameIndex, m.ObjectId }).IsUnique();
        b.Entity<TaskRecord>().HasIndex(t => new { t.AccountId, t.CreatedAt });
        b.Entity<TaskRecord>().HasIndex(t => new { t.AccountId, t.ExternalTaskId }).IsUnique();
        b.Entity<TaskRecord>().HasIndex(t => t.Status);
        b.Entity<TaskRecord>().HasIndex(t => t.ResultVideoId);
        b.Entity<StoredFileRecord>().HasIndex(f => f.OwnerId);
        b.Entity<CallbackRecord>().HasIndex(c => new { c.State, c.NextAttemptAt });
        b.Entity<LeaseRecord>().HasData(new LeaseRecord { Name = SweeperLease, Owner = "", ExpiresAt = 0 });
    }

    public static string SqliteConnectionString(string dataDir) =>
        $"Data Source={Path.Combine(dataDir, "roto.db")};Default Timeout=30;Pooling=True";
}

public sealed class SqliteRotoDb(DbContextOptions<SqliteRotoDb> options) : RotoDb(options);

public sealed class PostgresRotoDb(DbContextOptions<PostgresRotoDb> options) : RotoDb(options);

/// <summary>Lets `dotnet ef migrations add --context SqliteRotoDb` build the context without starting the server.</summary>
public sealed class SqliteRotoDbDesignFactory : IDesignTimeDbContextFactory<SqliteRotoDb>
{
    public SqliteRotoDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteRotoDb>().UseSqlite(RotoDb.SqliteConnectionString(Path.GetTempPath())).Options);
}

/// <summary>Lets `dotnet ef migrations add --context PostgresRotoDb` build the context; it never connects.</summary>
public sealed class PostgresRotoDbDesignFactory : IDesignTimeDbContextFactory<PostgresRotoDb>
{
    public PostgresRotoDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresRotoDb>().UseNpgsql("Host=localhost;Database=roto").Options);
}
