using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Roto.Core.Data;

/// <summary>Roto's only way into the database.</summary>
public sealed class RotoDb(DbContextOptions<RotoDb> options) : DbContext(options)
{
    public DbSet<SessionRecord> Sessions => Set<SessionRecord>();
    public DbSet<PointRecord> Points => Set<PointRecord>();
    public DbSet<FrameMaskRecord> FrameMasks => Set<FrameMaskRecord>();
    public DbSet<TaskRecord> Tasks => Set<TaskRecord>();
    public DbSet<StoredFileRecord> Files => Set<StoredFileRecord>();
    public DbSet<CallbackRecord> Callbacks => Set<CallbackRecord>();

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
    }

    public static string ConnectionString(string dataDir) =>
        $"Data Source={Path.Combine(dataDir, "roto.db")};Default Timeout=30;Pooling=True";
}

/// <summary>Lets `dotnet ef migrations add` build the context without starting the server.</summary>
public sealed class RotoDbDesignFactory : IDesignTimeDbContextFactory<RotoDb>
{
    public RotoDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<RotoDb>().UseSqlite(RotoDb.ConnectionString(Path.GetTempPath())).Options);
}
