using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using Roto.Core.Data;
using Roto.Core.Storage;
using Roto.Core.Tracking;
using Roto.Masks;
using Roto.Media;
using Roto.Vision;

namespace Roto.Core.Sessions;

/// <summary>
/// preview-selection: tracks the selection through the video once per selection state, rendering the overlay
/// video, its cover and the tracking JSON in the same decoding pass; later calls reuse the files.
/// </summary>
public sealed class PreviewService(
    RotoDb db,
    SessionService sessions,
    SessionLocks locks,
    FileStore files,
    IFileStore store,
    TrackBuilder trackBuilder,
    MediaTools tools,
    ComputeGate gate,
    ILogger<PreviewService> log)
{
    /// <summary>
    /// The overlay video is a look at the selection, not a deliverable: ultrafast costs about a quarter of veryfast's
    /// encoding time (it is the largest part of a preview), at a larger file and Constrained Baseline H.264.
    /// </summary>
    private const string PreviewPreset = "ultrafast";
    private const int PreviewCrf = 23;

    private static readonly Scalar[] Colours = [new(80, 220, 60), new(60, 120, 255), new(255, 160, 40), new(200, 60, 220), new(40, 220, 240)];

    public async Task<SessionRecord> PreviewAsync(string accountId, string sessionId, CancellationToken ct)
    {
        // Only saves work: one preview at a time per session in this process. Across processes the selection
        // version (the session's concurrency token) decides: a preview of a selection that changed meanwhile is not
        // recorded, and the next try previews the new selection.
        using var _ = await locks.EnterAsync(sessionId, ct);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryPreviewAsync(accountId, sessionId, ct);
            }
            catch (Exception ex) when (DbErrors.IsConflict(ex) && attempt < 4)
            {
                db.ChangeTracker.Clear();
                log.LogInformation("Selection of session {SessionId} changed during its preview; previewing again", sessionId);
            }
        }
    }

    private async Task<SessionRecord> TryPreviewAsync(string accountId, string sessionId, CancellationToken ct)
    {
        var session = await sessions.GetAsync(accountId, sessionId, ct);
        if (IsCurrent(session)) return session;

        var keys = await sessions.KeyframeMasksAsync(sessionId, ct);
        if (keys.Count == 0) throw KlingError.Invalid("session_id: nothing is selected yet; call add-selection first");

        using var slot = await gate.EnterAsync(ct);
        var video = sessions.VideoOf(session);
        var keyframes = ToKeyframes(keys, session);
        var firstMarked = keys.Min(k => k.FrameIndex);
        var videoTemp = files.TempPath(".mp4");
        var coverTemp = files.TempPath(".jpg");
        var jsonTemp = files.TempPath(".json");
        var started = DateTime.UtcNow;
        try
        {
            using (var writer = new VideoFrameWriter(tools with { X264Preset = PreviewPreset, X264Crf = PreviewCrf }, videoTemp, video.Width, video.Height, video.Fps))
            using (var json = new TrackingJsonWriter(jsonTemp, sessionId, video.Width, video.Height, Math.Round(video.Fps.Value, 3), video.FrameCount))
            {
                await Task.Run(() => trackBuilder.Build(video, keyframes, (i, frame, masks) =>
                {
                    DrawOverlay(frame, masks);
                    if (i == firstMarked) Cv2.ImWrite(coverTemp, frame, new ImageEncodingParam(ImwriteFlags.JpegQuality, 88));
                    writer.Write(frame);
                }, json, null, TrackingEffort.Preview, ct), ct);
                json.Complete();
                await writer.FinishAsync(ct);
            }
            var lifetime = TimeSpan.FromMilliseconds(Math.Max(0, session.ExpiresAt - Ids.NowMs()));
            var version = session.SelectionVersion;
            var videoKey = FileStore.NewKey("preview", $"{sessionId}-v{version}", ".mp4");
            var coverKey = FileStore.NewKey("preview", $"{sessionId}-v{version}-cover", ".jpg");
            var jsonKey = FileStore.NewKey("preview", $"{sessionId}-v{version}-tracking", ".json");
            var old = new[] { session.PreviewVideoKey, session.PreviewCoverKey, session.TrackingKey };
            await files.AdoptAsync(db, videoTemp, videoKey, accountId, "preview", sessionId, "video/mp4", lifetime, ct);
            await files.AdoptAsync(db, coverTemp, coverKey, accountId, "preview", sessionId, "image/jpeg", lifetime, ct);
            await files.AdoptAsync(db, jsonTemp, jsonKey, accountId, "preview", sessionId, "application/json", lifetime, ct);
            session.PreviewVideoKey = videoKey;
            session.PreviewCoverKey = coverKey;
            session.TrackingKey = jsonKey;
            session.PreviewVersion = version;
            session.UpdatedAt = Ids.NowMs();
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (Exception ex) when (DbErrors.IsConflict(ex))
            {
                // The selection changed while this preview ran: its files show a selection that no longer exists.
                db.ChangeTracker.Clear();
                await RemoveStaleAsync([videoKey, coverKey, jsonKey], CancellationToken.None);
                throw;
            }
            await RemoveStaleAsync(old.Where(k => k != videoKey && k != coverKey && k != jsonKey).ToArray(), ct);
            log.LogInformation("Preview of session {SessionId} v{Version}: {Frames} frames in {Seconds:0.00} s",
                sessionId, version, video.FrameCount, (DateTime.UtcNow - started).TotalSeconds);
            return session;
        }
        finally
        {
            TempFiles.TryDelete(videoTemp);
            TempFiles.TryDelete(coverTemp);
            TempFiles.TryDelete(jsonTemp);
            foreach (var k in keyframes) k.Mask.Dispose();
        }
    }

    /// <summary>The stored preview belongs to the current selection and its files are still there.</summary>
    public bool IsCurrent(SessionRecord s) =>
        s.PreviewVersion == s.SelectionVersion && s.TrackingKey != null && s.PreviewVideoKey != null && s.PreviewCoverKey != null
        && store.Exists(s.TrackingKey) && store.Exists(s.PreviewVideoKey) && store.Exists(s.PreviewCoverKey);

    public static List<Keyframe> ToKeyframes(IEnumerable<FrameMaskRecord> keys, SessionRecord s) =>
        keys.Select(k => new Keyframe(k.FrameIndex, k.ObjectId, MaskMats.ToMat(CocoRle.Decode(s.Height, s.Width, k.Counts)))).ToList();

    /// <summary>Each element as a translucent colour with a solid outline.</summary>
    public static void DrawOverlay(Mat frame, IReadOnlyDictionary<int, Mat> masks)
    {
        foreach (var (objectId, mask) in masks)
        {
            var box = Cv2.BoundingRect(mask);
            if (box.Width == 0 || box.Height == 0) continue;
            var colour = Colours[objectId % Colours.Length];
            using var region = frame[box];
            using var regionMask = mask[box];
            using var tinted = new Mat(region.Size(), region.Type(), colour);
            Cv2.AddWeighted(region, 0.5, tinted, 0.5, 0, tinted);
            tinted.CopyTo(region, regionMask);
            Cv2.FindContours(regionMask, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
            Cv2.DrawContours(region, contours, -1, colour, Math.Max(2, frame.Width / 640), LineTypes.AntiAlias);
        }
    }

    private async Task RemoveStaleAsync(string?[] keys, CancellationToken ct)
    {
        foreach (var key in keys.OfType<string>())
        {
            var record = await db.Files.FindAsync([key], ct);
            if (record != null) db.Files.Remove(record);
            store.Delete(key);
        }
        await db.SaveChangesAsync(ct);
    }
}
