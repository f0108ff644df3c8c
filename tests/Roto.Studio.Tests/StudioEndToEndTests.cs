using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;
using Roto.Masks;
using Roto.TestSupport;
using Xunit.Abstractions;

namespace Roto.Studio.Tests;

/// <summary>
/// A person's whole job in the Studio, in real headless Chromium against the real server: upload a real clip,
/// click an element, see its mask, preview the tracking, ask for a removal and watch the result play.
/// Screenshots of every step land in <see cref="Artifacts.Dir"/>.
/// </summary>
[Collection(StudioCollection.Name)]
public sealed class StudioEndToEndTests(StudioFixture fixture, ITestOutputHelper output)
{
    // The yellow "W" block of 03_blocks.mp4: it stands still, alone on the cutting mat, in the lower middle of frame 0.
    private const double ClickX = 0.455;
    private const double ClickY = 0.695;

    /// <summary>
    /// A bound on the wait, not a wait: the page reports the task's end as soon as it comes. The removal takes under a
    /// minute on a quiet 2-core machine, but beside two tracking benches (load 9–10) it outlasted 4 minutes.
    /// </summary>
    private static readonly TimeSpan TaskTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task A_person_selects_previews_and_removes_an_element_of_a_real_clip()
    {
        await using var studio = await StudioPage.OpenAsync(fixture);
        var page = studio.Page;
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            await studio.ScreenshotAsync("01-start.png");
            await studio.EnterKeyAsync(StudioServer.ApiKey);

            // 1. Upload the clip; the page opens a session on the uploaded URL and shows its facts.
            var init = page.WaitForResponseAsync(r => r.Url.EndsWith("/init-selection", StringComparison.Ordinal), new() { Timeout = 120_000 });
            await page.GetByLabel("Upload a video").SetInputFilesAsync(TestData.Clip("03_blocks.mp4"));
            var facts = (await JsonBody(await init)).GetProperty("data");
            await page.Locator("#stage[data-frame='0']").WaitForAsync(new() { Timeout = 30_000 });
            Step("session open, frame 0 drawn");
            Assert.Equal($"{facts.GetProperty("width").GetInt32()} × {facts.GetProperty("height").GetInt32()}", await page.Locator("#fact-size").TextContentAsync());
            Assert.Equal("1280 × 720", await page.Locator("#fact-size").TextContentAsync());
            var totalFrames = facts.GetProperty("total_frame").GetInt32();
            Assert.Equal(totalFrames.ToString(), await page.Locator("#fact-frames").TextContentAsync());
            Assert.InRange(totalFrames, 280, 300); // 9.74 s at 29.97 fps
            Assert.Equal(facts.GetProperty("session_id").GetString(), await page.Locator("#fact-session").TextContentAsync());
            Assert.True(await FrameHasPicture(studio), $"frame 0 of the video is drawn on the canvas ({await FrameCanvasState(studio)})");
            await studio.ScreenshotAsync("02-session.png");

            // 2. Click the block: the mask from add-selection is drawn over it at once.
            var add = page.WaitForResponseAsync(r => r.Url.EndsWith("/add-selection", StringComparison.Ordinal), new() { Timeout = 60_000 });
            await ClickFrameAsync(page, ClickX, ClickY);
            var added = (await JsonBody(await add)).GetProperty("data").GetProperty("res");
            await page.Locator("#stage[data-mask-source=selection]").WaitForAsync();
            Step("add-selection answered and drawn");
            var entry = added.GetProperty("rle_mask_list").EnumerateArray().Single(e => e.GetProperty("object_id").GetInt32() == 0);
            var size = entry.GetProperty("rle_mask").GetProperty("size");
            var mask = CocoRle.Decode(size[0].GetInt32(), size[1].GetInt32(), entry.GetProperty("rle_mask").GetProperty("counts").GetString()!);
            Assert.False(mask.IsEmpty, "the mask of the clicked block is not empty");
            var click = ((int)(ClickX * mask.Width), (int)(ClickY * mask.Height));
            var near = NearestMaskPixel(mask, click);
            Assert.True(Distance(near, click) <= 20, $"the mask reaches within 20 px of the click (nearest {near}, click {click})");
            Assert.True(mask.Area() < mask.Width * mask.Height / 4, $"the mask is the block, not the frame (area {mask.Area()})");

            // The overlay canvas shows the mask in element 1's colour where the mask is, and nothing far from it.
            var probe = MaskPixelBesideThePoint(mask, click);
            var inside = await OverlayPixel(studio, probe.X, probe.Y);
            Assert.True(inside[3] > 0, $"overlay is painted inside the mask (rgba {string.Join(',', inside)})");
            // Element 1's colour, give or take the rounding of the canvas' premultiplied alpha.
            Assert.True(Math.Abs(inside[0] - 116) <= 3 && inside[1] >= 252 && Math.Abs(inside[2] - 82) <= 3, $"overlay is element 1's green (rgba {string.Join(',', inside)})");
            var far = FarthestFromMask(mask);
            var outside = await OverlayPixel(studio, far.X, far.Y);
            Assert.Equal(0, outside[3]);
            Assert.Equal(1, await page.Locator("#marks .mark").CountAsync());
            await studio.ScreenshotAsync("03-mask.png");

            // 3. Alt-click adds an exclude point; clicking it again deletes exactly that point.
            var excludeAdd = page.WaitForRequestAsync(r => r.Url.EndsWith("/add-selection", StringComparison.Ordinal));
            var excludeAnswer = page.WaitForResponseAsync(r => r.Url.EndsWith("/add-selection", StringComparison.Ordinal), new() { Timeout = 60_000 });
            await ClickFrameAsync(page, 0.62, 0.9, alt: true);
            var sentPoint = JsonDocument.Parse((await excludeAdd).PostData!).RootElement.GetProperty("points")[0];
            Assert.Equal(0, sentPoint.GetProperty("label").GetInt32());
            await excludeAnswer;
            var delete = page.WaitForRequestAsync(r => r.Url.EndsWith("/delete-selection", StringComparison.Ordinal));
            var deleteAnswer = page.WaitForResponseAsync(r => r.Url.EndsWith("/delete-selection", StringComparison.Ordinal), new() { Timeout = 60_000 });
            await ClickFrameAsync(page, sentPoint.GetProperty("x").GetDouble(), sentPoint.GetProperty("y").GetDouble());
            var deletedPoint = JsonDocument.Parse((await delete).PostData!).RootElement.GetProperty("points")[0];
            Assert.Equal(sentPoint.GetProperty("x").GetDouble(), deletedPoint.GetProperty("x").GetDouble());
            Assert.Equal(sentPoint.GetProperty("y").GetDouble(), deletedPoint.GetProperty("y").GetDouble());
            Assert.Equal(0, (await JsonBody(await deleteAnswer)).GetProperty("code").GetInt32());
            Step("exclude point added and deleted");

            // 4. Keyboard stepping moves the frame; the marked frame stays on the scrubber.
            await page.Locator("#overlay-canvas").FocusAsync();
            await page.Keyboard.PressAsync("ArrowRight");
            await page.Keyboard.PressAsync("ArrowRight");
            await page.Keyboard.PressAsync("Shift+ArrowRight");
            await page.Locator("#stage[data-frame='12']").WaitForAsync();
            Assert.Equal("12", await page.Locator("#frame-slider").InputValueAsync());
            Assert.Equal(1, await page.Locator("#marked-frames li").CountAsync());

            // 5. Preview: overlay video, cover, and tracked masks on frames that were never clicked.
            await page.GetByRole(AriaRole.Button, new() { Name = "Preview tracking" }).ClickAsync();
            await page.Locator("#preview-result").WaitForAsync(new() { Timeout = 180_000 });
            Step("preview answered");
            await studio.WaitUntilAsync("() => document.getElementById('preview-video').readyState >= 2", TimeSpan.FromSeconds(30), "the preview video");
            Assert.True(await studio.EvaluateAsync<int>("() => document.getElementById('preview-cover').naturalWidth") > 0, "the cover image loads");
            await page.Locator("#stage[data-mask-source=tracking]").WaitForAsync(new() { Timeout = 10_000 });
            Assert.True(await studio.EvaluateAsync<bool>(
                "() => { const c = document.getElementById('tracked-mask'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false; }"),
                "the per-frame view shows a tracked mask on frame 12");
            await studio.ScreenshotAsync("04-preview.png");

            // 6. Edit rules follow the mode: a swap takes exactly one uploaded image, a removal none.
            var imageDir = TestData.TempDir("roto-studio-image");
            var image = Path.Combine(imageDir, "block.png");
            TestData.Ffmpeg("-i", TestData.Clip("03_blocks.mp4"), "-frames:v", "1", "-vf", "crop=400:400:440:300", image);
            await page.GetByLabel("Swap it for an image").CheckAsync();
            Assert.Equal(1, await page.Locator("#rules li.bad", new() { HasText = "exactly 1 reference image" }).CountAsync());
            var upload = page.WaitForResponseAsync(r => r.Url.EndsWith("/v1/uploads", StringComparison.Ordinal));
            await page.GetByLabel("Reference images").SetInputFilesAsync(image);
            var uploaded = (await JsonBody(await upload)).GetProperty("data").GetProperty("url").GetString();
            await page.Locator("#image-list img").WaitForAsync();
            Assert.Equal(uploaded, await page.Locator("#image-list img").GetAttributeAsync("src"));
            Assert.Equal(1, await page.Locator("#rules li.ok", new() { HasText = "exactly 1 reference image" }).CountAsync());
            await page.GetByRole(AriaRole.Button, new() { Name = "<<<image_1>>>" }).ClickAsync();
            Assert.Equal("<<<image_1>>>", await page.Locator("#prompt").InputValueAsync());
            await page.GetByLabel("Remove the element").CheckAsync();
            Assert.Equal(1, await page.Locator("#rules li.bad", new() { HasText = "no reference image" }).CountAsync());
            Assert.True(await page.GetByRole(AriaRole.Button, new() { Name = "Create task" }).IsDisabledAsync(), "a removal with an image cannot be submitted");
            await page.GetByRole(AriaRole.Button, new() { Name = "Remove image_1 (block.png)" }).ClickAsync();
            Directory.Delete(imageDir, recursive: true);

            // 7. Edit: removal with the template prompt; the rules pass, the task is created.
            await page.GetByRole(AriaRole.Button, new() { Name = "Use template" }).ClickAsync();
            Assert.Contains("<<<video_1>>>", await page.Locator("#prompt").InputValueAsync());
            Assert.Equal(0, await page.Locator("#rules li.bad").CountAsync());
            var create = page.WaitForResponseAsync(r => r.Url.EndsWith("/v1/videos/multi-elements", StringComparison.Ordinal) && r.Request.Method == "POST");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create task" }).ClickAsync();
            var created = (await JsonBody(await create)).GetProperty("data");
            var taskId = created.GetProperty("task_id").GetString()!;
            var task = page.Locator($".task[data-task-id='{taskId}']");
            await task.WaitForAsync();
            Step($"task {taskId} created");
            await studio.ScreenshotAsync("05-task-created.png");

            // 8. The list polls until the task finishes; the result plays beside the original.
            await studio.WaitUntilAsync(
                $"() => ['succeed', 'failed'].includes(document.querySelector(\".task[data-task-id='{taskId}']\")?.dataset.status)",
                TaskTimeout, "the removal task to finish");
            var failure = await task.Locator(".task-msg").TextContentAsync();
            Assert.True(await task.GetAttributeAsync("data-status") == "succeed", $"the task succeeded (message: {failure})");
            Step("task succeeded");
            var result = task.Locator("video.result-video");
            await result.WaitForAsync();
            await result.EvaluateAsync("v => v.play()");
            await studio.WaitUntilAsync(
                $"() => document.querySelector(\".task[data-task-id='{taskId}'] video.result-video\").readyState >= 2",
                TimeSpan.FromSeconds(30), "the result video to load");
            Assert.True(await result.EvaluateAsync<double>("v => v.duration") > 0, "the result video has a duration");
            await studio.WaitUntilAsync(
                $"() => document.querySelector(\".task[data-task-id='{taskId}'] video.result-video\").currentTime > 0.2",
                TimeSpan.FromSeconds(20), "the result video to play");
            Assert.Equal(1, await task.Locator("video.original-video").CountAsync());
            Assert.Equal(await result.GetAttributeAsync("src"), await task.GetByRole(AriaRole.Link, new() { Name = "Download result" }).GetAttributeAsync("href"));
            await result.EvaluateAsync("v => v.pause()");
            await studio.ScreenshotAsync("06-result.png");

            // 9. Nothing spills sideways, at 1280 px or on a narrow window.
            Assert.True(await PageWidth(studio) <= 1280, "no horizontal scrolling at 1280 px");
            await page.SetViewportSizeAsync(420, 900);
            await page.Locator("#stage").EvaluateAsync("s => s.getBoundingClientRect().width"); // lets layout settle
            Assert.True(await PageWidth(studio) <= 420, $"no horizontal scrolling at 420 px (page is {await PageWidth(studio)} px wide)");
            await studio.ScreenshotAsync("08-narrow.png");
            Assert.Empty(studio.Problems);
        }
        catch
        {
            await studio.ScreenshotAsync("99-failure.png");
            foreach (var problem in studio.Problems) output.WriteLine(problem);
            throw;
        }
    }

    [Fact]
    public async Task A_video_the_profile_rejects_shows_the_servers_code_and_message()
    {
        await using var studio = await StudioPage.OpenAsync(fixture);
        var page = studio.Page;
        await studio.EnterKeyAsync(StudioServer.ApiKey);
        // bedroom.mp4 (960×540, 6.7 s) breaks the default profile's limits on both size and duration.
        var init = page.WaitForResponseAsync(r => r.Url.EndsWith("/init-selection", StringComparison.Ordinal), new() { Timeout = 120_000 });
        await page.GetByLabel("Upload a video").SetInputFilesAsync(TestData.Clip("bedroom.mp4"));
        var response = await init;
        var body = await JsonBody(response);
        Assert.Equal(400, response.Status);
        var error = page.Locator("#source-error");
        await error.WaitForAsync();
        var shown = await error.TextContentAsync();
        Assert.Contains($"code {body.GetProperty("code").GetInt32()}", shown);
        Assert.Contains(body.GetProperty("message").GetString()!, shown);
        Assert.Contains(body.GetProperty("request_id").GetString()!, shown);
        Assert.True(await page.Locator("#select-panel").IsHiddenAsync(), "no session view opens for a rejected video");
        await studio.ScreenshotAsync("07-rejected-video.png");
        Assert.Empty(studio.Problems);
    }

    [Fact]
    public async Task Without_a_key_the_page_shows_the_authentication_error()
    {
        await using var studio = await StudioPage.OpenAsync(fixture);
        await studio.EnterKeyAsync("not-a-key");
        var error = studio.Page.Locator("#tasks-error");
        await error.WaitForAsync();
        Assert.Matches("HTTP 401 · code 100[0-4]", await error.TextContentAsync());
    }

    private static async Task<JsonElement> JsonBody(IResponse response) =>
        JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();

    private static Task ClickFrameAsync(IPage page, double x, double y, bool alt = false) =>
        ClickAtAsync(page.Locator("#overlay-canvas"), x, y, alt);

    private static async Task ClickAtAsync(ILocator canvas, double x, double y, bool alt)
    {
        var box = (await canvas.BoundingBoxAsync())!;
        await canvas.ClickAsync(new LocatorClickOptions
        {
            Position = new Position { X = (float)(x * box.Width), Y = (float)(y * box.Height) },
            Modifiers = alt ? [KeyboardModifier.Alt] : null,
        });
    }

    private static Task<bool> FrameHasPicture(StudioPage studio) => studio.EvaluateAsync<bool>(
        "() => { const c = document.getElementById('frame-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let lo = 255, hi = 0; for (let i = 0; i < d.length; i += 4 * 97) { lo = Math.min(lo, d[i + 1]); hi = Math.max(hi, d[i + 1]); } return hi - lo > 100; }");

    // What a failed picture check needs to tell an empty canvas from a frame the browser painted black.
    private static Task<string> FrameCanvasState(StudioPage studio) => studio.EvaluateAsync<string>(
        "() => { const c = document.getElementById('frame-canvas'); const v = document.getElementById('source-video'); const p = c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data; return `centre rgba ${[...p]}, video readyState ${v.readyState}, currentTime ${v.currentTime}`; }");

    private static Task<int[]> OverlayPixel(StudioPage studio, int x, int y) => studio.EvaluateAsync<int[]>(
        "([x, y]) => [...document.getElementById('overlay-canvas').getContext('2d').getImageData(x, y, 1, 1).data]", new[] { x, y });

    private static Task<int> PageWidth(StudioPage studio) => studio.EvaluateAsync<int>("() => document.documentElement.scrollWidth");

    private static double Distance((int X, int Y) a, (int X, int Y) b) => Math.Sqrt(Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2));

    private static (int X, int Y) NearestMaskPixel(BinaryMask mask, (int X, int Y) from)
    {
        var best = (X: -1, Y: -1);
        var bestDistance = double.MaxValue;
        for (var y = 0; y < mask.Height; y++)
        for (var x = 0; x < mask.Width; x++)
        {
            if (!mask[x, y]) continue;
            var d = Distance((x, y), from);
            if (d < bestDistance) (best, bestDistance) = ((x, y), d);
        }
        return best;
    }

    // A mask pixel 20–60 px from the click: inside the mask but clear of the point marker drawn at the click.
    private static (int X, int Y) MaskPixelBesideThePoint(BinaryMask mask, (int X, int Y) click)
    {
        for (var y = 1; y < mask.Height - 1; y++)
        for (var x = 1; x < mask.Width - 1; x++)
        {
            var d = Distance((x, y), click);
            if (d >= 20 && d <= 60 && mask[x, y] && mask[x - 1, y] && mask[x + 1, y] && mask[x, y - 1] && mask[x, y + 1]) return (x, y);
        }
        throw new Xunit.Sdk.XunitException("the mask has no interior pixel 20–60 px from the click: it is not the block");
    }

    // A pixel in a frame corner that the mask leaves empty, away from any point marker.
    private static (int X, int Y) FarthestFromMask(BinaryMask mask)
    {
        (int X, int Y)[] corners = [(4, 4), (mask.Width - 5, 4), (4, mask.Height - 5), (mask.Width - 5, mask.Height - 5)];
        return corners.First(c => !mask[c.X, c.Y]);
    }
}
