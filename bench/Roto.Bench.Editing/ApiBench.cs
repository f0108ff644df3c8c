using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using Roto.Vision;

namespace Roto.Bench.Editing;

/// <summary>
/// A removal task on 01_dog.mp4 through the HTTP API, timed from the create call to the poll that sees "succeed",
/// with and without a preview of the same selection first (without one the task tracks the selection itself),
/// next to `ffmpeg -i 01_dog.mp4 -c:v libx264 -preset veryfast -y out.mp4` timed in the same run.
/// </summary>
public static class ApiBench
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static void RunTiming(RotoServer server, int runs)
    {
        var clip = TestData.Clip("01_dog.mp4");
        var tmp = TestData.TempDir("roto-bench-api");
        try
        {
            var url = server.Upload(clip);
            var transcodes = new List<double>();
            var withPreview = new List<double>();
            var withoutPreview = new List<double>();
            for (var run = 1; run <= runs; run++)
            {
                var sw = Stopwatch.StartNew();
                TestData.Ffmpeg("-i", clip, "-c:v", "libx264", "-preset", "veryfast", "-y", Path.Combine(tmp, "out.mp4"));
                transcodes.Add(sw.Elapsed.TotalSeconds);
                Console.WriteLine($"run {run}: ffmpeg transcode {transcodes[^1]:F2} s (load {ProfileBench.Load()})");

                var (task, started, preview) = Removal(server, url, new Click(0.49, 0.64), previewFirst: true);
                withPreview.Add(task);
                Console.WriteLine($"run {run}: removal task after a preview {task:F2} s (running after {started:F2} s; the preview took {preview:F2} s) (load {ProfileBench.Load()})");

                (task, started, _) = Removal(server, url, new Click(0.49, 0.64), previewFirst: false);
                withoutPreview.Add(task);
                Console.WriteLine($"run {run}: removal task without a preview {task:F2} s (running after {started:F2} s) (load {ProfileBench.Load()})");
            }
            double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
            var ffmpeg = Median(transcodes);
            Console.WriteLine();
            Console.WriteLine($"| 01_dog.mp4 (1280x720, 289 frames), medians of {runs} runs | seconds | × ffmpeg transcode |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| ffmpeg -c:v libx264 -preset veryfast | {ffmpeg:F2} | 1.0 |");
            Console.WriteLine($"| removal task after a preview (track reused) | {Median(withPreview):F2} | {Median(withPreview) / ffmpeg:F1} |");
            Console.WriteLine($"| removal task without a preview (tracks first) | {Median(withoutPreview):F2} | {Median(withoutPreview) / ffmpeg:F1} |");
            Console.WriteLine($"load at the end: {ProfileBench.Load()}");
        }
        finally
        {
            Directory.Delete(tmp, true);
        }
    }

    /// <summary>
    /// A new session on the uploaded video, one click on frame 0, optionally a preview, then a removal task polled
    /// until it succeeds. Returns the task's seconds from create to succeed, from create to processing, and the preview's.
    /// </summary>
    public static (double Task, double Started, double Preview) Removal(RotoServer server, string videoUrl, Click click, bool previewFirst,
        string? downloadTo = null, Action<Mat>? firstMask = null)
    {
        var sessionId = server.Post("/init-selection", new JsonObject { ["video_url"] = videoUrl })["session_id"]!.GetValue<string>();
        var selection = server.Post("/add-selection", new JsonObject
        {
            ["session_id"] = sessionId,
            ["frame_index"] = 0,
            ["points"] = new JsonArray(new JsonObject { ["x"] = click.X, ["y"] = click.Y }),
        });
        if (firstMask != null && selection["res"]?["rle_mask_list"]?.AsArray() is [{ } first, ..])
        {
            using var mask = Cv2.ImDecode(Convert.FromBase64String(first["png_mask"]!["base64"]!.GetValue<string>()), ImreadModes.Grayscale);
            firstMask(mask);
        }
        var preview = 0.0;
        if (previewFirst)
        {
            var p = Stopwatch.StartNew();
            server.Post("/preview-selection", new JsonObject { ["session_id"] = sessionId });
            preview = p.Elapsed.TotalSeconds;
        }
        var sw = Stopwatch.StartNew();
        var taskId = server.Post("", new JsonObject
        {
            ["session_id"] = sessionId,
            ["edit_mode"] = "removal",
            ["prompt"] = "Delete it from <<<video_1>>>",
        })["task_id"]!.GetValue<string>();
        var started = double.NaN;
        JsonNode view;
        while (true)
        {
            view = server.GetTask(taskId);
            var status = view["task_status"]!.GetValue<string>();
            if (status != "submitted" && double.IsNaN(started)) started = sw.Elapsed.TotalSeconds;
            if (status == "succeed") break;
            if (status == "failed") throw new InvalidOperationException($"task {taskId} failed: {view["task_status_msg"]}");
            Thread.Sleep(PollInterval);
        }
        var seconds = sw.Elapsed.TotalSeconds;
        if (downloadTo != null) server.Download(view["task_result"]!["videos"]![0]!["url"]!.GetValue<string>(), downloadTo);
        return (seconds, started, preview);
    }

    /// <summary>The mask point farthest from its edge, as fractions of the frame: where a person would click.</summary>
    public static Click InteriorClick(Mat mask)
    {
        using var dist = new Mat();
        Cv2.DistanceTransform(mask, dist, DistanceTypes.L2, DistanceTransformMasks.Mask5);
        Cv2.MinMaxLoc(dist, out _, out _, out _, out Point at);
        return new Click((at.X + 0.5) / mask.Width, (at.Y + 0.5) / mask.Height);
    }
}
