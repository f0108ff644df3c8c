using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using Roto.Core.Data;
using Roto.Core.Ingest;
using Roto.Core.Storage;
using Roto.Masks;
using Roto.Media;
using Roto.Vision;

namespace Roto.Core.Sessions;

/// <summary>Sessions and their selections: init, add, delete, clear. Preview lives in <see cref="PreviewService"/>.</summary>
public sealed class SessionService(
    RotoDb db,
    IOptions<RotoOptions> options,
    FileStore files,
    MediaSource mediaSource,
    MediaTools tools,
    Ffprobe probe,
    VideoNormalizer normalizer,
    IClickSegmenter segmenter,
    FrameCache frameCache,
    ComputeGate gate,
    FirstFrameWarmer warmer,
    ILogger<SessionService> log)
{
    public const int MaxMarkedFrames = 10;
    public const int MaxPointsPerFrame = 10;
    /// <summary>Tries at a selection change when other requests keep changing the same session first.</summary>
    private const int MaxConflictTries = 8;

    public async Task<SessionRecord> InitAsync(string accountId, string? videoId, string? videoUrl, CancellationToken ct)
    {
        var field = videoId != null ? "video_id" : "video_url";
        using var source = videoId != null
            ? await mediaSource.FromVideoIdAsync(db, videoId, accountId, ct)
            : await mediaSource.FromUrlAsync(db, "video_url", videoUrl!, accountId, options.Value.Limits.MaxDownloadBytes, ct);

        using var slot = await gate.EnterAsync(ct);
        VideoInfo info;
        try { info = await probe.ProbeAsync(source.Path, ct); }
        catch (MediaException ex) when (ex is not MediaToolException) { throw KlingError.Invalid($"{field}: {ex.Message}"); }

        var profile = InputProfile.ByName(options.Value.Limits.Profile);
        profile.Validate(field, info);
        var target = profile.TargetFps(info) ?? throw KlingError.Invalid($"{field}: unsupported frame rate");

        var sessionId = Ids.New();
        var temp = files.TempPath(".mp4");
        NormalizedVideo normalized;
        try { normalized = await normalizer.NormalizeAsync(source.Path, info, target, temp, ct); }
        catch (Exception ex)
        {
            TempFiles.TryDelete(temp);
            // A tool that hung or crashed is the server's fault, not the file's: the error mapping answers 5xx for it.
            if (ex is MediaException and not MediaToolException) throw KlingError.Invalid($"{field}: {ex.Message}");
            throw;
        }

        var now = Ids.NowMs();
        var lifetime = options.Value.SessionLifetime;
        var key = FileStore.NewKey("normalized", sessionId, ".mp4");
        await files.AdoptAsync(db, temp, key, accountId, "normalized", sessionId, "video/mp4", lifetime, ct);
        var session = new SessionRecord
        {
            Id = sessionId,
            AccountId = accountId,
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = now + (long)lifetime.TotalMilliseconds,
            VideoKey = key,
            FpsNum = normalized.Fps.Num,
            FpsDen = normalized.Fps.Den,
            OriginalDurationMs = (long)Math.Round(info.DurationSeconds * 1000),
            Width = normalized.Width,
            Height = normalized.Height,
            TotalFrames = normalized.FrameCount,
            HasAudio = normalized.HasAudio,
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(ct);
        warmer.Schedule(session.Id, session.VideoKey, VideoOf(session));
        log.LogInformation("Session {SessionId} ready: {Width}x{Height} {Fps} fps, {Frames} frames, stream copied: {Copied}",
            sessionId, session.Width, session.Height, normalized.Fps, session.TotalFrames, normalized.StreamCopied);
        return session;
    }

    /// <summary>The caller's live session, or 404/1203.</summary>
    public async Task<SessionRecord> GetAsync(string accountId, string sessionId, CancellationToken ct)
    {
        var session = await db.Sessions.FirstOrDefaultAsync(s => s.Id == sessionId, ct);
        if (session == null || session.AccountId != accountId || session.ExpiresAt < Ids.NowMs())
            throw KlingError.NotFound($"session_id {sessionId} does not exist or has expired");
        return session;
    }

    public VideoSource VideoOf(SessionRecord s) =>
        new(tools, files.PathOf(s.VideoKey), s.Width, s.Height, new FrameRate(s.FpsNum, s.FpsDen), s.TotalFrames);

    public Task<FrameSelection> AddAsync(string accountId, string sessionId, int frameIndex, int objectId,
        IReadOnlyList<PointInput> points, CancellationToken ct) =>
        RetryOnConflictAsync(sessionId, () => TryAddAsync(accountId, sessionId, frameIndex, objectId, points, ct));

    private async Task<FrameSelection> TryAddAsync(string accountId, string sessionId, int frameIndex, int objectId,
        IReadOnlyList<PointInput> points, CancellationToken ct)
    {
        var session = await GetAsync(accountId, sessionId, ct);
        CheckFrame(session, frameIndex);

        var existing = await db.Points.Where(p => p.SessionId == sessionId).ToListAsync(ct);
        var markedFrames = existing.Select(p => p.FrameIndex).ToHashSet();
        if (!markedFrames.Contains(frameIndex) && markedFrames.Count >= MaxMarkedFrames)
            throw KlingError.Invalid($"frame_index: at most {MaxMarkedFrames} frames can be marked in a session; frames {string.Join(", ", markedFrames.Order())} are marked");

        var onFrame = existing.Where(p => p.FrameIndex == frameIndex && p.ObjectId == objectId).ToList();
        var prior = onFrame.Count == 0 ? await TrackedMaskAsync(session, frameIndex, objectId, ct) : null;
        var now = Ids.NowMs();
        foreach (var p in points)
        {
            var same = onFrame.FirstOrDefault(e => SamePoint(e, p));
            if (same != null)
            {
                same.Label = p.Label; // the same click again only changes its label
                continue;
            }
            var record = new PointRecord { SessionId = sessionId, FrameIndex = frameIndex, ObjectId = objectId, X = p.X, Y = p.Y, Label = p.Label, CreatedAt = now };
            onFrame.Add(record);
            db.Points.Add(record);
        }
        if (onFrame.Count > MaxPointsPerFrame)
            throw KlingError.Invalid($"points: at most {MaxPointsPerFrame} points can be placed on one frame; frame {frameIndex} would have {onFrame.Count}");

        await RecomputeMaskAsync(session, frameIndex, objectId, onFrame, ct, prior);
        Touch(session, now);
        await db.SaveChangesAsync(ct);
        return new FrameSelection(session, frameIndex, await MasksOnFrameAsync(sessionId, frameIndex, session, ct), now);
    }

    /// <summary>
    /// What the current preview showed of the element on this frame, as RLE counts, or null: no preview of this
    /// selection, or nothing tracked there. A first click on a frame that was not marked then corrects the track.
    /// </summary>
    private async Task<string?> TrackedMaskAsync(SessionRecord session, int frameIndex, int objectId, CancellationToken ct)
    {
        if (session.TrackingKey == null || session.PreviewVersion != session.SelectionVersion) return null;
        try
        {
            var track = await Tracking.RleMaskTrack.LoadAsync(files.PathOf(session.TrackingKey), ct);
            return frameIndex < track.FrameCount && track.Frames[frameIndex].TryGetValue(objectId, out var counts)
                && CocoRle.ParseCounts(counts).Count > 1 ? counts : null;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException)
        {
            // The sweeper may have taken an expired preview: then the click starts from nothing, as on any frame.
            log.LogInformation("No tracked mask of session {SessionId} frame {Frame} to correct: {Error}", session.Id, frameIndex, ex.Message);
            return null;
        }
    }

    public Task<FrameSelection> DeleteAsync(string accountId, string sessionId, int frameIndex, int objectId,
        IReadOnlyList<PointInput> points, CancellationToken ct) =>
        RetryOnConflictAsync(sessionId, () => TryDeleteAsync(accountId, sessionId, frameIndex, objectId, points, ct));

    private async Task<FrameSelection> TryDeleteAsync(string accountId, string sessionId, int frameIndex, int objectId,
        IReadOnlyList<PointInput> points, CancellationToken ct)
    {
        var session = await GetAsync(accountId, sessionId, ct);
        CheckFrame(session, frameIndex);
        var onFrame = await db.Points.Where(p => p.SessionId == sessionId && p.FrameIndex == frameIndex && p.ObjectId == objectId).ToListAsync(ct);
        for (var i = 0; i < points.Count; i++)
        {
            var match = onFrame.FirstOrDefault(e => SamePoint(e, points[i]))
                ?? throw KlingError.Invalid($"points[{i}] ({points[i].X}, {points[i].Y}) was not selected on frame {frameIndex}" + (objectId != 0 ? $" for object_id {objectId}" : ""));
            onFrame.Remove(match);
            db.Points.Remove(match);
        }
        var now = Ids.NowMs();
        await RecomputeMaskAsync(session, frameIndex, objectId, onFrame, ct);
        Touch(session, now);
        await db.SaveChangesAsync(ct);
        return new FrameSelection(session, frameIndex, await MasksOnFrameAsync(sessionId, frameIndex, session, ct), now);
    }

    public Task<(SessionRecord Session, long At)> ClearAsync(string accountId, string sessionId, CancellationToken ct) =>
        RetryOnConflictAsync(sessionId, async () =>
        {
            var session = await GetAsync(accountId, sessionId, ct);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.Points.Where(p => p.SessionId == sessionId).ExecuteDeleteAsync(ct);
            await db.FrameMasks.Where(m => m.SessionId == sessionId).ExecuteDeleteAsync(ct);
            var now = Ids.NowMs();
            Touch(session, now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return (session, now);
        });

    /// <summary>
    /// Runs a selection change again from a fresh read when another request (in this process or another) saved a
    /// change to the same session in between: the session's selection version is its concurrency token, so the
    /// later save fails instead of overwriting, and no click is lost.
    /// </summary>
    private async Task<T> RetryOnConflictAsync<T>(string sessionId, Func<Task<T>> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await change();
            }
            catch (Exception ex) when (DbErrors.IsConflict(ex) && attempt < MaxConflictTries)
            {
                db.ChangeTracker.Clear();
                log.LogInformation("Selection of session {SessionId} changed meanwhile; trying again ({Attempt})", sessionId, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)));
            }
        }
    }

    /// <summary>The stored keyframe masks of the session's current selection (empty ones left out).</summary>
    public async Task<List<FrameMaskRecord>> KeyframeMasksAsync(string sessionId, CancellationToken ct) =>
        await db.FrameMasks.AsNoTracking().Where(m => m.SessionId == sessionId).OrderBy(m => m.FrameIndex).ThenBy(m => m.ObjectId).ToListAsync(ct);

    /// <param name="prior">A new element-frame's tracked mask (RLE counts) to correct; a stored frame keeps its own.</param>
    private async Task RecomputeMaskAsync(SessionRecord session, int frameIndex, int objectId, List<PointRecord> points, CancellationToken ct, string? prior = null)
    {
        var stored = await db.FrameMasks.FirstOrDefaultAsync(m => m.SessionId == session.Id && m.FrameIndex == frameIndex && m.ObjectId == objectId, ct);
        if (points.Count == 0)
        {
            if (stored != null) db.FrameMasks.Remove(stored);
            return;
        }
        // Before taking a core: the warmer holds one while it prepares this very frame.
        await warmer.WhenPreparedAsync(session.Id, frameIndex, ct);
        using var slot = await gate.EnterAsync(ct);
        var frames = await FrameAndLaterAsync(session, frameIndex, ct);
        using var frame = frames.Frame;
        using var later = frames.Later;
        var clicks = points.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).Select(p => new Click(p.X, p.Y, p.Label != 0)).ToList();
        prior = stored != null ? stored.PriorCounts : prior;
        using var priorMask = prior == null ? null : MaskMats.ToMat(CocoRle.Decode(session.Height, session.Width, prior));
        using var mask = segmenter.Segment(new SegmentRequest(frame, clicks, FirstFrameWarmer.AnalysisKey(session.Id, frameIndex), priorMask, later));
        var counts = Tracking.RleMaskTrack.Encode(mask);
        if (stored == null) db.FrameMasks.Add(new FrameMaskRecord { SessionId = session.Id, FrameIndex = frameIndex, ObjectId = objectId, Counts = counts, PriorCounts = prior });
        else stored.Counts = counts;
    }

    /// <summary>The frame the segmenter compares a frame with (<see cref="IClickSegmenter.LaterFrames"/> on, or as far back where the video ends), or null.</summary>
    public static int? LaterIndex(int frameIndex, int totalFrames, int offset)
    {
        if (offset <= 0 || totalFrames < 2) return null;
        var later = frameIndex + offset < totalFrames ? frameIndex + offset : Math.Max(0, frameIndex - offset);
        return later == frameIndex ? null : later;
    }

    private static int? LaterIndex(SessionRecord session, int frameIndex, int offset) => LaterIndex(frameIndex, session.TotalFrames, offset);

    /// <summary>The frame and the one the segmenter compares it with (null when it wants none), decoded together when neither is cached.</summary>
    private async Task<(Mat Frame, Mat? Later)> FrameAndLaterAsync(SessionRecord session, int frameIndex, CancellationToken ct)
    {
        if (LaterIndex(session, frameIndex, segmenter.LaterFrames) is not { } laterIndex) return (await FrameAsync(session, frameIndex, ct), null);
        var frameKey = FirstFrameWarmer.FrameKey(session.VideoKey, frameIndex);
        var laterKey = FirstFrameWarmer.FrameKey(session.VideoKey, laterIndex);
        var cachedFrame = frameCache.TryGet(frameKey);
        var cachedLater = frameCache.TryGet(laterKey);
        if (cachedFrame == null && cachedLater == null)
        {
            var pair = await FrameGrabber.ReadPairAsync(VideoOf(session), frameIndex, laterIndex, ct);
            frameCache.Put(frameKey, pair.First);
            frameCache.Put(laterKey, pair.Second);
            return pair;
        }
        Mat? frame = cachedFrame;
        try
        {
            frame ??= await FrameAsync(session, frameIndex, ct);
            return (frame, cachedLater ?? await FrameAsync(session, laterIndex, ct));
        }
        catch
        {
            frame?.Dispose();
            cachedLater?.Dispose();
            throw;
        }
    }

    private async Task<Mat> FrameAsync(SessionRecord session, int frameIndex, CancellationToken ct)
    {
        var key = FirstFrameWarmer.FrameKey(session.VideoKey, frameIndex);
        if (frameCache.TryGet(key) is { } cached) return cached;
        var frame = await FrameGrabber.ReadAsync(VideoOf(session), frameIndex, ct);
        frameCache.Put(key, frame);
        return frame;
    }

    private async Task<List<ObjectMask>> MasksOnFrameAsync(string sessionId, int frameIndex, SessionRecord session, CancellationToken ct)
    {
        // Local entities include this request's unsaved changes; SaveChanges ran before, so the database is current.
        var masks = await db.FrameMasks.AsNoTracking().Where(m => m.SessionId == sessionId && m.FrameIndex == frameIndex).OrderBy(m => m.ObjectId).ToListAsync(ct);
        return masks.Select(m => new ObjectMask(m.ObjectId, m.Counts, CocoRle.Decode(session.Height, session.Width, m.Counts))).ToList();
    }

    private static void CheckFrame(SessionRecord session, int frameIndex)
    {
        if (frameIndex < 0 || frameIndex >= session.TotalFrames)
            throw KlingError.Invalid($"frame_index must be between 0 and {session.TotalFrames - 1} (got {frameIndex})");
    }

    private static bool SamePoint(PointRecord e, PointInput p) => Math.Abs(e.X - p.X) < 1e-9 && Math.Abs(e.Y - p.Y) < 1e-9;

    private static void Touch(SessionRecord session, long now)
    {
        session.SelectionVersion++;
        session.UpdatedAt = now;
    }
}
