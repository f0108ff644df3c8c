using System.Text.Json;
using OpenCvSharp;
using Roto.Core.Data;
using Roto.Core.Sessions;
using Roto.Core.Storage;
using Roto.Core.Tracking;
using Roto.Masks;
using Roto.Media;
using Roto.Vision;

namespace Roto.Core.Tasks;

/// <summary>
/// Runs one edit: the selection's track (reused from the preview when it is of the same selection), the engine,
/// and the H.264 result (plus a watermarked copy when asked) with the source's audio.
/// </summary>
public sealed class EditPipeline(
    IFileStore store,
    MediaTools tools,
    TrackBuilder trackBuilder,
    IElementRemover remover,
    IElementCompositor compositor,
    ISubjectExtractor subjects)
{
    public sealed record Output(string ResultPath, string? WatermarkPath, int Frames, double Seconds);

    public async Task<Output> RunAsync(TaskRecord task, SessionRecord session, IProgress<double> progress, CancellationToken ct)
    {
        var request = JsonSerializer.Deserialize<EditRequest>(task.RequestJson, WireJson.Options)!;
        var snapshot = JsonSerializer.Deserialize<SelectionSnapshot>(task.SelectionJson, WireJson.Options)!;
        if (!store.Exists(session.VideoKey)) throw new MediaException("the session's video is gone (the session expired)");
        var videoPath = store.PathOf(session.VideoKey);
        var video = new VideoSource(tools, videoPath, session.Width, session.Height, new FrameRate(session.FpsNum, session.FpsDen), session.TotalFrames);

        var track = await TrackAsync(task, session, video, snapshot, new Progress<double>(p => progress.Report(p * 0.3)), ct);
        var editProgress = new Progress<double>(p => progress.Report(track == null ? p : 0.3 + p * 0.7));

        var resultPath = store.TempPath(".mp4");
        var watermarkPath = task.WatermarkEnabled ? store.TempPath(".mp4") : null;
        var subjectList = new List<Subject>();
        try
        {
            foreach (var key in request.Images)
            {
                using var image = Cv2.ImRead(store.PathOf(key), ImreadModes.Unchanged);
                if (image.Empty()) throw new MediaException($"reference image {key} could not be decoded");
                subjectList.Add(subjects.Extract(image));
            }

            using var writer = new VideoFrameWriter(tools, resultPath, video.Width, video.Height, video.Fps, session.HasAudio ? videoPath : null);
            using var marked = watermarkPath != null
                ? new VideoFrameWriter(tools, watermarkPath, video.Width, video.Height, video.Fps, session.HasAudio ? videoPath : null)
                : null;
            void OnFrame(int i, Mat frame)
            {
                writer.Write(frame);
                if (marked == null) return;
                Watermark.Draw(frame);
                marked.Write(frame);
            }

            await Task.Run(() =>
            {
                switch (request.EditMode)
                {
                    case EditModes.Removal:
                        remover.Remove(video, track!, OnFrame, editProgress, ct);
                        break;
                    case EditModes.Swap:
                        compositor.Swap(video, track!, subjectList[0], remover, OnFrame, editProgress, ct);
                        break;
                    default:
                        var placement = request.Placement is { } p ? new Placement(p.X, p.Y, p.Scale) : null;
                        compositor.Add(video, track, subjectList, placement, OnFrame, editProgress, ct);
                        break;
                }
            }, ct);
            if (writer.FramesWritten != video.FrameCount)
                throw new MediaException($"the engine produced {writer.FramesWritten} of {video.FrameCount} frames");
            await writer.FinishAsync(ct);
            if (marked != null) await marked.FinishAsync(ct);
            return new Output(resultPath, watermarkPath, writer.FramesWritten, writer.FramesWritten / video.Fps.Value);
        }
        catch
        {
            TempFiles.TryDelete(resultPath);
            if (watermarkPath != null) TempFiles.TryDelete(watermarkPath);
            throw;
        }
        finally
        {
            foreach (var s in subjectList) s.Bgra.Dispose();
        }
    }

    private async Task<RleMaskTrack?> TrackAsync(TaskRecord task, SessionRecord session, VideoSource video, SelectionSnapshot snapshot,
        IProgress<double> progress, CancellationToken ct)
    {
        if (snapshot.Masks.Count == 0) return null;
        // The preview of the same selection already tracked it: reuse its work, unless the preview left corrections out
        // to answer in time.
        if (trackBuilder.PreviewIsFull && session.PreviewVersion == task.SelectionVersion && session.TrackingKey != null && store.Exists(session.TrackingKey))
        {
            var stored = await RleMaskTrack.LoadAsync(store.PathOf(session.TrackingKey), ct);
            if (stored.FrameCount == video.FrameCount) return stored;
        }
        var keyframes = snapshot.Masks
            .Select(m => new Keyframe(m.FrameIndex, m.ObjectId, MaskMats.ToMat(CocoRle.Decode(session.Height, session.Width, m.Counts))))
            .ToList();
        try
        {
            return await Task.Run(() => trackBuilder.Build(video, keyframes, null, null, progress, TrackingEffort.Full, ct), ct);
        }
        finally
        {
            foreach (var k in keyframes) k.Mask.Dispose();
        }
    }
}

/// <summary>The visible mark of the watermarked copy.</summary>
public static class Watermark
{
    public static void Draw(Mat frame)
    {
        var scale = frame.Height / 540.0;
        var text = "Roto";
        var size = Cv2.GetTextSize(text, HersheyFonts.HersheyDuplex, 1.2 * scale, (int)Math.Max(1, 2 * scale), out _);
        var origin = new Point(frame.Width - size.Width - (int)(24 * scale), frame.Height - (int)(24 * scale));
        var box = new Rect(origin.X - (int)(10 * scale), origin.Y - size.Height - (int)(10 * scale), size.Width + (int)(20 * scale), size.Height + (int)(20 * scale))
            & new Rect(0, 0, frame.Width, frame.Height);
        using (var roi = frame[box])
        using (var dark = new Mat(roi.Size(), roi.Type(), Scalar.All(0)))
            Cv2.AddWeighted(roi, 0.55, dark, 0.45, 0, roi);
        Cv2.PutText(frame, text, origin, HersheyFonts.HersheyDuplex, 1.2 * scale, Scalar.All(255), (int)Math.Max(1, 2 * scale), LineTypes.AntiAlias);
    }
}
