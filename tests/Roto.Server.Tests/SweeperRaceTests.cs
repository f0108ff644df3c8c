using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Roto.Core;
using Roto.Core.Data;
using Roto.Core.Maintenance;
using Roto.Core.Storage;

namespace Roto.Server.Tests;

/// <summary>
/// The sweeper against files adopted while it sweeps: it must never take a file that a record points at. A crash test
/// (OrphanFileAge 2 s, two loaded cores) lost an upload this way and answered "the file URL does not exist" later.
/// </summary>
public sealed class SweeperRaceTests
{
    [Fact]
    public async Task A_file_adopted_while_the_sweeper_reads_the_records_is_kept()
    {
        var hook = new AdoptWhileReadingFiles();
        using var app = new RotoApp(new() { ["Roto:OrphanFileAge"] = "00:00:02" },
            services: s => s.ConfigureDbContext<SqliteRotoDb>(o => o.AddInterceptors(hook)));
        using (app.Client()) { }
        hook.Adopt = app.Services.GetRequiredService<FileStore>() is var files ? ct => AdoptAsync(app.Services, files, hook, ct) : null;

        await hook.SweepArmedAsync(() => app.Services.GetRequiredService<Sweeper>().SweepAsync(CancellationToken.None));

        Assert.NotEmpty(hook.Adopted);
        var store = app.Services.GetRequiredService<FileStore>();
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RotoDb>();
        foreach (var key in hook.Adopted)
        {
            Assert.NotNull(await db.Files.FindAsync(key));
            Assert.True(File.Exists(store.PathOf(key)), $"the sweeper deleted {key}, which a record points at");
        }
    }

    /// <summary>
    /// An upload whose bytes finished arriving a minute ago (a slow client or a starved process), adopted now: a move
    /// keeps that old modification time, so the orphan grace period alone does not protect it.
    /// </summary>
    private static async Task AdoptAsync(IServiceProvider services, FileStore files, AdoptWhileReadingFiles hook, CancellationToken ct)
    {
        var temp = files.TempPath(".mp4");
        await File.WriteAllBytesAsync(temp, new byte[4096], ct);
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddMinutes(-1));
        var id = Ids.New();
        var key = FileStore.NewKey("upload", id, ".mp4");
        using var scope = services.CreateScope();
        await files.AdoptAsync(scope.ServiceProvider.GetRequiredService<RotoDb>(), temp, key, "account", "upload", id, "video/mp4", TimeSpan.FromHours(1), ct);
        hook.Adopted.Add(key);
    }

    /// <summary>
    /// Adopts a file each time a sweep armed by <see cref="SweepArmedAsync"/> has just run a query on the file records,
    /// so before it reads the rows: the moment a concurrent upload could land between the sweeper's reads.
    /// </summary>
    private sealed class AdoptWhileReadingFiles : DbCommandInterceptor
    {
        private static readonly AsyncLocal<bool> Armed = new();
        public Func<CancellationToken, Task>? Adopt { get; set; }
        public List<string> Adopted { get; } = [];

        public async Task SweepArmedAsync(Func<Task> sweep)
        {
            Armed.Value = true;
            try { await sweep(); }
            finally { Armed.Value = false; }
        }

        public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result,
            CancellationToken cancellationToken = default)
        {
            if (Armed.Value && Adopt != null && command.CommandText.Contains("FROM \"Files\"", StringComparison.Ordinal))
            {
                Armed.Value = false; // the adoption's own queries run unhooked
                await Adopt(cancellationToken);
            }
            return result;
        }
    }
}
