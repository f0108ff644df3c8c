using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;
using static Roto.Vision.Tests.Segmentation.SegmenterFixture;

namespace Roto.Vision.Tests.Segmentation;

/// <summary>
/// A click's frame is decoded by OpenCV's FFmpeg, tracking's by an ffmpeg process; the segmenter is sensitive to small
/// colour shifts (a BT.601 conversion of this BT.709 clip moved the mask to IoU 0.78), so the two must agree.
/// </summary>
public sealed class FrameDecoderTests(SegmenterFixture fixture) : IClassFixture<SegmenterFixture>
{
    [Fact]
    public async Task Both_decoders_give_the_same_mask_for_the_same_clicks_on_a_bt709_clip()
    {
        var tools = new MediaTools();
        var path = TestData.Clip("bees.mp4");
        var info = await new Ffprobe(tools).ProbeAsync(path);
        var video = new VideoSource(tools, path, info.Width, info.Height, info.Fps, (int)(info.FrameCount ?? 1));
        // bees_query_points.txt: "frame;x,y x,y …" in pixels, three include points then one exclude point per bee.
        var lines = File.ReadAllLines(TestData.Clip("bees_query_points.txt")).Skip(1);
        foreach (var line in lines)
        {
            var parts = line.Split(';');
            var frameIndex = int.Parse(parts[0]);
            var points = parts[1].Split(' ').Select(p => p.Split(',').Select(double.Parse).ToArray()).ToArray();
            var clicks = points.Select((p, i) => new Click(p[0] / info.Width, p[1] / info.Height, Include: i < 3)).ToList();

            using var inProcess = FrameGrabber.ReadInProcess(video, frameIndex, info.ColourSpace == "bt709");
            Assert.NotNull(inProcess);
            using var piped = await FrameGrabber.ReadWithFfmpegAsync(video, frameIndex);
            using var a = fixture.Segmenter.Segment(new SegmentRequest(inProcess, clicks, null));
            using var b = fixture.Segmenter.Segment(new SegmentRequest(piped, clicks, null));

            var iou = Iou(a, b);
            Assert.True(iou >= 0.95, $"the masks from the two decoders overlap by IoU {iou:0.000} ({Cv2.CountNonZero(a)} / {Cv2.CountNonZero(b)} px)");
        }
    }
}
