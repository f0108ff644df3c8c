using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Roto.Core.Callbacks;
using Roto.Core.Cluster;
using Roto.Core.Data;
using Roto.Core.Ingest;
using Roto.Core.Sessions;
using Roto.Core.Storage;

namespace Roto.Core.Tasks;

/// <summary>Creating, finding and listing edit tasks. Running them is <see cref="TaskWorker"/>'s job.</summary>
public sealed class TaskService(
    RotoDb db,
    SessionService sessions,
    ReferenceImages images,
    FileStore files,
    CallbackQueue callbacks,
    TaskSignal signal,
    IOptions<RotoOptions> options)
{
    public async Task<TaskRecord> CreateAsync(string accountId, EditRequest request, string baseUrl, CancellationToken ct)
    {
        var session = await sessions.GetAsync(accountId, request.SessionId, ct);
        CheckImageCount(request);
        CheckDuration(request, session);

        var keys = await sessions.KeyframeMasksAsync(session.Id, ct);
        if (request.EditMode != EditModes.Addition && keys.Count == 0)
            throw KlingError.Invalid($"session_id: {request.EditMode} needs a selected element; call add-selection first");

        if (request.ExternalTaskId != null && await db.Tasks.AnyAsync(t => t.AccountId == accountId && t.ExternalTaskId == request.ExternalTaskId, ct))
            throw KlingError.Invalid($"external_task_id {request.ExternalTaskId} is already used by another task of this account");

        // A quick refusal before any image is fetched; the binding count is taken again where the task is inserted.
        await CheckUnfinishedAsync(accountId, ct);

        var taskId = Ids.New();
        var imageKeys = new List<string>();
        try
        {
            for (var i = 0; i < request.Images.Count; i++)
            {
                var bytes = await images.LoadAsync(db, $"image_list[{i}]", request.Images[i], accountId, ct);
                var ext = Media.ImageHeader.Read(bytes)!.Format == "png" ? ".png" : ".jpg";
                var temp = files.TempPath(ext);
                await File.WriteAllBytesAsync(temp, bytes, ct);
                var key = FileStore.NewKey("image", $"{taskId}-{i}", ext);
                await files.AdoptAsync(db, temp, key, accountId, "image", taskId, ext == ".png" ? "image/png" : "image/jpeg", options.Value.ResultLifetime, ct);
                imageKeys.Add(key);
            }
        }
        catch
        {
            await files.DeleteOwnedByAsync(db, taskId, CancellationToken.None);
            throw;
        }

        var now = Ids.NowMs();
        var task = new TaskRecord
        {
            Id = taskId,
            AccountId = accountId,
            SessionId = session.Id,
            ExternalTaskId = request.ExternalTaskId,
            Status = TaskStatuses.Submitted,
            CreatedAt = now,
            UpdatedAt = now,
            RequestJson = JsonSerializer.Serialize(request with { Images = imageKeys }, WireJson.Options),
            SelectionJson = JsonSerializer.Serialize(new SelectionSnapshot(keys.Select(k => new SnapshotMask(k.FrameIndex, k.ObjectId, k.Counts)).ToList()), WireJson.Options),
            SelectionVersion = session.SelectionVersion,
            WatermarkEnabled = request.Watermark,
            CallbackUrl = request.CallbackUrl,
            BaseUrl = baseUrl,
        };
        try
        {
            // Count and insert in one transaction that no other process's insert for this account can interleave with
            // (see LockAccountAsync), so the limit holds however many API processes take requests.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await LockAccountAsync(accountId, ct);
            await CheckUnfinishedAsync(accountId, ct);
            db.Tasks.Add(task);
            await callbacks.EnqueueAsync(db, task, save: false, ct);
            await db.SaveChangesAsync(ct);
            await WorkNotifications.NotifyAsync(db, ct);
            await tx.CommitAsync(ct);
        }
        catch (Exception ex) when (ex is KlingError || ex is DbUpdateException && request.ExternalTaskId != null)
        {
            db.ChangeTracker.Clear();
            await files.DeleteOwnedByAsync(db, taskId, CancellationToken.None);
            if (ex is KlingError) throw;
            throw KlingError.Invalid($"external_task_id {request.ExternalTaskId} is already used by another task of this account");
        }
        signal.Wake();
        return task;
    }

    private async Task CheckUnfinishedAsync(string accountId, CancellationToken ct)
    {
        var unfinished = await db.Tasks.CountAsync(t => t.AccountId == accountId && (t.Status == TaskStatuses.Submitted || t.Status == TaskStatuses.Processing), ct);
        if (unfinished >= options.Value.Limits.MaxConcurrentTasks)
            throw new KlingError(KlingCodes.ConcurrencyLimited, $"parallel task over resource pack limit: {unfinished} of {options.Value.Limits.MaxConcurrentTasks} tasks are unfinished");
    }

    /// <summary>
    /// Serialises task creation per account inside the current transaction. PostgreSQL: a transaction-scoped advisory
    /// lock on the account (READ COMMITTED alone would let two inserts each count the other's absence). SQLite needs
    /// nothing more: EF Core begins its transactions with BEGIN IMMEDIATE, which already admits one writer at a time.
    /// </summary>
    private async Task LockAccountAsync(string accountId, CancellationToken ct)
    {
        if (db.IsPostgres) await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({accountId}))", ct);
    }

    /// <summary>By task_id first, then external_task_id, within the account.</summary>
    public async Task<TaskRecord> FindAsync(string accountId, string id, CancellationToken ct) =>
        await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.AccountId == accountId && t.Id == id, ct)
        ?? await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.AccountId == accountId && t.ExternalTaskId == id, ct)
        ?? throw KlingError.NotFound($"task {id} does not exist");

    public async Task<TaskRecord> FindByExternalIdAsync(string accountId, string externalId, CancellationToken ct) =>
        await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.AccountId == accountId && t.ExternalTaskId == externalId, ct)
        ?? throw KlingError.NotFound($"no task has external_task_id {externalId}");

    /// <summary>Newest first.</summary>
    public async Task<List<TaskRecord>> ListAsync(string accountId, int pageNum, int pageSize, CancellationToken ct) =>
        await db.Tasks.AsNoTracking().Where(t => t.AccountId == accountId)
            .OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Skip((pageNum - 1) * pageSize).Take(pageSize).ToListAsync(ct);

    private static void CheckImageCount(EditRequest r)
    {
        var n = r.Images.Count;
        switch (r.EditMode)
        {
            case EditModes.Addition when n is < 1 or > 2:
                throw KlingError.Invalid($"image_list: addition needs 1 or 2 images, got {n}");
            case EditModes.Swap when n != 1:
                throw KlingError.Invalid($"image_list: swap needs exactly 1 image, got {n}");
            case EditModes.Removal when n != 0:
                throw KlingError.Invalid($"image_list: removal takes no images, got {n}");
        }
    }

    /// <summary>Under the Kling profile, an explicit duration must fit the video: "5" for 2–5 s, "10" for 7–10 s.</summary>
    private void CheckDuration(EditRequest r, SessionRecord s)
    {
        if (r.Duration == null || !string.Equals(options.Value.Limits.Profile, "kling", StringComparison.OrdinalIgnoreCase)) return;
        var seconds = s.OriginalDurationMs / 1000.0;
        var fits = r.Duration == "5" ? seconds <= 5.5 : seconds >= 7;
        if (!fits)
            throw KlingError.Invalid($"duration \"{r.Duration}\" does not fit the session's {seconds:0.##} s video (\"5\" takes 2–5 s, \"10\" takes 7–10 s)");
    }
}
