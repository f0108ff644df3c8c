using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Roto.Core.Sessions;
using Roto.Vision;
using Roto.Vision.Segmentation;

namespace Roto.Server.Tests;

/// <summary>A new session's frame 0 is analysed before its first click, and the click's mask is the same as without it.</summary>
public sealed class FirstFrameWarmerTests
{
    private const string B = "/v1/videos/multi-elements";

    [Theory]
    [InlineData(0, 100, 3, 3)]     // the frame three on
    [InlineData(98, 100, 3, 95)]   // near the end, three back
    [InlineData(1, 3, 3, 0)]       // too short for either: as far back as there is
    [InlineData(0, 1, 3, null)]    // one frame: nothing moves
    [InlineData(5, 100, 0, null)]  // a segmenter that wants no later frame
    public void The_motion_cue_reads_the_frame_three_on_or_three_back_near_the_end(int frame, int total, int offset, int? expected) =>
        Assert.Equal(expected, SessionService.LaterIndex(frame, total, offset));

    [Fact]
    public async Task The_segmenter_then_the_tracker_are_loaded_at_start_only_when_warming_is_on()
    {
        using var warm = new RotoApp(new() { ["Roto:WarmFirstFrame"] = "true" });
        using var cold = new RotoApp(new() { ["Roto:WarmFirstFrame"] = "false" });
        using var warmClient = warm.Client(); // starts the server
        using var coldClient = cold.Client();
        var warmSegmenter = (FeatureGraphSegmenter)warm.Services.GetRequiredService<IClickSegmenter>();
        var coldSegmenter = (FeatureGraphSegmenter)cold.Services.GetRequiredService<IClickSegmenter>();
        var warmWarmer = warm.Services.GetRequiredService<FirstFrameWarmer>();

        // /health says what is loaded, so a client (or a benchmark) can wait for the end of the warm-up.
        async Task<string[]> Warmed(HttpClient client) =>
            JsonNode.Parse(await client.GetStringAsync("/health"))!["warmed"]!.AsArray().Select(e => e!.GetValue<string>()).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await Warmed(warmClient)).Length < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(warmSegmenter.IsLoaded, "the network was not loaded within 60 s of the start");
        // Loading draws its own frame: no session's analysis is cached by it.
        Assert.Equal(0, warmSegmenter.CachedFrameCount);
        // The tracker's networks are process-wide, so what the warmer reports loading is what can be checked.
        Assert.Equal([FirstFrameWarmer.ClickSegmenter, FirstFrameWarmer.Tracker], warmWarmer.LoadedEngines);
        Assert.False(coldSegmenter.IsLoaded);
        Assert.Empty(cold.Services.GetRequiredService<FirstFrameWarmer>().LoadedEngines);
        Assert.Equal([FirstFrameWarmer.ClickSegmenter, FirstFrameWarmer.Tracker], await Warmed(warmClient));
        Assert.Empty(await Warmed(coldClient));
    }

    [Fact]
    public async Task Frame_0_is_analysed_before_the_first_click_and_the_click_gives_the_same_mask()
    {
        using var warm = new RotoApp(new() { ["Roto:WarmFirstFrame"] = "true" });
        using var cold = new RotoApp(new() { ["Roto:WarmFirstFrame"] = "false" });
        using var warmClient = warm.Client();
        using var coldClient = cold.Client();
        var segmenter = (FeatureGraphSegmenter)warm.Services.GetRequiredService<IClickSegmenter>();

        var warmSession = (await Wire.InitAsync(warmClient, Videos.Short720))["session_id"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (segmenter.CachedFrameCount == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, segmenter.CachedFrameCount);

        var coldSession = (await Wire.InitAsync(coldClient, Videos.Short720))["session_id"]!.GetValue<string>();
        var coldSegmenter = (FeatureGraphSegmenter)cold.Services.GetRequiredService<IClickSegmenter>();
        // Nothing was queued for it, so nothing can arrive later: no waiting needed to see that.
        Assert.False(cold.Services.GetRequiredService<FirstFrameWarmer>().IsPending(coldSession));
        Assert.Equal(0, coldSegmenter.CachedFrameCount);

        var click = new { frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } };
        var warmMask = (await Wire.PostAsync(warmClient, $"{B}/add-selection", new { session_id = warmSession, click.frame_index, click.points })).Ok()
            .Data["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>();
        var coldMask = (await Wire.PostAsync(coldClient, $"{B}/add-selection", new { session_id = coldSession, click.frame_index, click.points })).Ok()
            .Data["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>();
        Assert.Equal(coldMask, warmMask);
        // The click used the prepared analysis instead of making a second one.
        Assert.Equal(1, segmenter.CachedFrameCount);
        Assert.True(Roto.Masks.CocoRle.Decode(720, 1280, warmMask).Area() > 0);
    }
}
