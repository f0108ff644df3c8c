using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Roto.Masks;
using Roto.Vision;
using Roto.Vision.Propagation;

namespace Roto.Server.Tests;

/// <summary>Roto:Tracking:FeatureMatching switches previews to feature-matching tracking; off by default.</summary>
public sealed class FeatureTrackingTests
{
    private const string B = "/v1/videos/multi-elements";

    [Fact]
    public void Tracking_uses_flow_and_colour_unless_feature_matching_is_configured()
    {
        using var plain = new RotoApp();
        using var matching = new RotoApp(new() { ["Roto:Tracking:FeatureMatching"] = "true" });
        Assert.Null(((FlowColourPropagator)plain.Services.GetRequiredService<IMaskPropagator>()).Features);
        Assert.NotNull(((FlowColourPropagator)matching.Services.GetRequiredService<IMaskPropagator>()).Features);
    }

    [Fact]
    public async Task A_preview_tracked_by_feature_matching_has_every_frame_and_the_marked_element()
    {
        using var app = new RotoApp(new() { ["Roto:Tracking:FeatureMatching"] = "true" });
        using var client = app.Client();
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        var click = (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 5, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok().Data;
        var clicked = CocoRle.Decode(720, 1280, click["res"]!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>());

        var res = (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok().Data["res"]!;
        var tracking = JsonNode.Parse(await Wire.DownloadAsync(client, res["tracking_output"]!.GetValue<string>()))!;
        var frames = tracking["frames"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 60), frames.Select(f => f!["frame_index"]!.GetValue<int>()));
        var masks = frames.Select(f => CocoRle.Decode(720, 1280, f!["rle_mask_list"]![0]!["rle_mask"]!["counts"]!.GetValue<string>())).ToList();
        var areas = masks.Select(m => m.Area()).ToList();
        // The marked frame keeps the clicked mask, up to its round trip through the tracker's working size.
        Assert.True(masks[5].IoU(clicked) > 0.99, $"the marked frame's tracked mask overlaps the clicked one by IoU {masks[5].IoU(clicked):0.000}");
        // The element is followed on its neighbours, at about its size.
        foreach (var t in new[] { 4, 6, 30 })
            Assert.InRange(areas[t], clicked.Area() / 3, clicked.Area() * 3);
    }
}
