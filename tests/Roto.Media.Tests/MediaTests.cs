using OpenCvSharp;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Media.Tests;

public sealed class MediaTests
{
    private static readonly MediaTools Tools = new();
    private static readonly Ffprobe Probe = new(Tools);

    [Fact]
    public async Task Probes_a_real_clip()
    {
        var info = await Probe.ProbeAsync(TestData.Clip("01_dog.mp4"));
        Assert.Equal("h264", info.VideoCodec);
        Assert.Equal(1280, info.Width);
        Assert.Equal(720, info.Height);
        Assert.Equal(new FrameRate(30000, 1001), info.Fps);
        Assert.True(info.HasAudio);
        Assert.Equal(289, await Probe.CountFramesAsync(TestData.Clip("01_dog.mp4")));
    }

    [Fact]
    public async Task A_conforming_clip_is_copied_and_decodes_to_exactly_its_frame_count()
    {
        var dir = TestData.TempDir();
        var info = await Probe.ProbeAsync(TestData.Clip("03_blocks.mp4"));
        var result = await new VideoNormalizer(Tools, Probe).NormalizeAsync(TestData.Clip("03_blocks.mp4"), info, info.Fps, Path.Combine(dir, "n.mp4"));
        Assert.True(result.StreamCopied);
        Assert.True(result.HasAudio);
        using var reader = new VideoFrameReader(Tools, result.Path, 64, 36, gray: true);
        Assert.Equal(result.FrameCount, reader.Frames().Count(f => { f.Dispose(); return true; }));
    }

    [Fact]
    public async Task Variable_frame_rate_becomes_constant_with_the_exact_frame_count()
    {
        var dir = TestData.TempDir();
        // Frames at uneven times: 30 fps content with every fourth frame dropped and the timestamps kept.
        var vfr = Path.Combine(dir, "vfr.mp4");
        TestData.Ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3", "-vf", "select='not(eq(mod(n\\,4)\\,1))'",
            "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", vfr);
        var info = await Probe.ProbeAsync(vfr);
        var target = new FrameRate(30, 1);
        Assert.False(await Probe.IsConstantFrameRateAsync(vfr, target));
        var result = await new VideoNormalizer(Tools, Probe).NormalizeAsync(vfr, info, target, Path.Combine(dir, "n.mp4"));
        Assert.False(result.StreamCopied);
        Assert.Equal(target, result.Fps);
        Assert.True(await Probe.IsConstantFrameRateAsync(result.Path, target));
        using var reader = new VideoFrameReader(Tools, result.Path, 32, 24, gray: true);
        Assert.Equal(result.FrameCount, reader.Frames().Count(f => { f.Dispose(); return true; }));
        Assert.InRange(result.FrameCount, 89, 92);
    }

    [Fact]
    public async Task Rotation_metadata_is_applied()
    {
        var dir = TestData.TempDir();
        var plain = TestData.MakeVideo(dir, "plain.mp4", 320, 240, 1, "30", audio: false);
        var rotated = Path.Combine(dir, "rotated.mp4");
        TestData.Ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated);
        var info = await Probe.ProbeAsync(rotated);
        Assert.Equal(240, info.Width);
        Assert.Equal(320, info.Height);
        var result = await new VideoNormalizer(Tools, Probe).NormalizeAsync(rotated, info, info.Fps, Path.Combine(dir, "n.mp4"));
        Assert.False(result.StreamCopied);
        Assert.Equal((240, 320), (result.Width, result.Height));
        var normalized = await Probe.ProbeAsync(result.Path);
        Assert.Equal(0, normalized.Rotation);
    }

    [Fact]
    public async Task A_seeked_frame_equals_the_same_frame_decoded_in_order()
    {
        var path = TestData.Clip("01_dog.mp4");
        var video = new VideoSource(Tools, path, 1280, 720, new FrameRate(30000, 1001), 289);
        int[] wanted = [0, 1, 37, 150, 288];
        var sequential = new Dictionary<int, Mat>();
        using (var reader = video.OpenReader())
        {
            var i = 0;
            foreach (var frame in reader.Frames())
            {
                if (wanted.Contains(i)) sequential[i] = frame; else frame.Dispose();
                i++;
            }
            Assert.Equal(289, i);
        }
        foreach (var index in wanted)
        {
            using var seeked = await FrameGrabber.ReadAsync(video, index);
            // Seeking decodes in process, reading in order through ffmpeg: the same frame up to their rounding.
            Assert.True(MeanDiff(seeked, sequential[index]) < 1.5, $"frame {index} differs after seeking");
            sequential[index].Dispose();
        }
    }

    /// <summary>
    /// Clicks read their frame through OpenCV's FFmpeg, tracking reads frames through an ffmpeg pipe: on every kind
    /// of video a session holds, copied or re-encoded, BT.709 or BT.601, both give the same frame for an index, up to
    /// rounding (a mean difference under 1.5 levels; 0.7 to 1.0 measured, from the two FFmpegs' chroma upsampling), and
    /// closer to it than to its neighbours.
    /// </summary>
    [Theory]
    [InlineData("01_dog.mp4")]
    [InlineData("bedroom.mp4")]
    [InlineData("bees.mp4")]
    [InlineData("bigbuckbunny.mp4")]
    public async Task A_frame_read_in_process_is_the_frame_ffmpeg_decodes(string clip)
    {
        var info = await Probe.ProbeAsync(TestData.Clip(clip));
        var target = info.Fps.Value > 31 ? new FrameRate(30, 1) : info.Fps;
        var normalized = await new VideoNormalizer(Tools, Probe).NormalizeAsync(TestData.Clip(clip), info, target, Path.Combine(TestData.TempDir(), "n.mp4"));
        var video = new VideoSource(Tools, normalized.Path, normalized.Width, normalized.Height, normalized.Fps, normalized.FrameCount);
        var bt709 = (await Probe.ProbeAsync(normalized.Path)).ColourSpace == "bt709";
        var n = video.FrameCount;
        foreach (var index in new[] { 0, 1, 17, n / 2, n - 2, n - 1 })
        {
            using var inProcess = FrameGrabber.ReadInProcess(video, index, bt709);
            Assert.NotNull(inProcess);
            using var expected = await FrameGrabber.ReadWithFfmpegAsync(video, index);
            var diff = MeanDiff(inProcess, expected);
            Assert.True(diff < 1.5, $"{clip} frame {index}: mean difference {diff:0.00} levels");
            foreach (var other in new[] { index - 1, index + 1 }.Where(i => i >= 0 && i < n))
            {
                using var neighbour = await FrameGrabber.ReadWithFfmpegAsync(video, other);
                var neighbourDiff = MeanDiff(inProcess, neighbour);
                Assert.True(neighbourDiff > diff, $"{clip}: frame {index} read in process is closer to frame {other} ({neighbourDiff:0.00} < {diff:0.00})");
            }
        }
    }

    /// <summary>
    /// ReadAsync itself takes the in-process path (it still reads the frame with no ffmpeg to start) and maps a BT.709
    /// stream's colours (unmapped, bees.mp4 differs from ffmpeg's frame by about 4 levels).
    /// </summary>
    [Fact]
    public async Task ReadAsync_decodes_in_process_with_bt709_colours()
    {
        var path = TestData.Clip("bees.mp4");
        var info = await Probe.ProbeAsync(path);
        Assert.Equal("bt709", info.ColourSpace);
        var withoutFfmpeg = Tools with { FfmpegPath = Path.Combine(TestData.TempDir(), "no-ffmpeg-here") };
        var video = new VideoSource(withoutFfmpeg, path, info.Width, info.Height, info.Fps, (int)(info.FrameCount ?? 1));
        using var frame = await FrameGrabber.ReadAsync(video, 40);
        using var expected = await FrameGrabber.ReadWithFfmpegAsync(video with { Tools = Tools }, 40);
        var diff = MeanDiff(frame, expected);
        Assert.True(diff < 1.5, $"mean difference {diff:0.00} levels from ffmpeg's frame");
    }

    /// <summary>
    /// A click's frame and its motion cue's frame come from one seek (the frames between decoded, not sought again):
    /// each is the frame ffmpeg decodes at its index, in either order, with no ffmpeg to fall back on.
    /// </summary>
    [Theory]
    [InlineData("01_dog.mp4", 10, 13)]
    [InlineData("01_dog.mp4", 288, 285)]
    [InlineData("01_dog.mp4", 0, 3)]
    [InlineData("bees.mp4", 40, 43)]
    public async Task ReadPairAsync_gives_both_frames_from_one_seek(string clip, int first, int second)
    {
        var path = TestData.Clip(clip);
        var info = await Probe.ProbeAsync(path);
        var withoutFfmpeg = Tools with { FfmpegPath = Path.Combine(TestData.TempDir(), "no-ffmpeg-here") };
        var video = new VideoSource(withoutFfmpeg, path, info.Width, info.Height, info.Fps, (int)(info.FrameCount ?? 1));
        var (a, b) = await FrameGrabber.ReadPairAsync(video, first, second);
        using var firstFrame = a;
        using var secondFrame = b;
        foreach (var (frame, index) in new[] { (firstFrame, first), (secondFrame, second) })
        {
            using var expected = await FrameGrabber.ReadWithFfmpegAsync(video with { Tools = Tools }, index);
            var diff = MeanDiff(frame, expected);
            Assert.True(diff < 1.5, $"{clip} frame {index}: mean difference {diff:0.00} levels from ffmpeg's frame");
            foreach (var other in new[] { index - 1, index + 1 }.Where(i => i >= 0 && i < video.FrameCount))
            {
                using var neighbour = await FrameGrabber.ReadWithFfmpegAsync(video with { Tools = Tools }, other);
                Assert.True(MeanDiff(frame, neighbour) > diff, $"{clip}: the pair's frame {index} is closer to frame {other}");
            }
        }
    }

    private static double MeanDiff(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var mean = Cv2.Mean(diff);
        return (mean.Val0 + mean.Val1 + mean.Val2) / 3;
    }

    [Fact]
    public async Task Writes_browser_playable_h264_with_the_source_audio()
    {
        var dir = TestData.TempDir();
        var source = TestData.MakeVideo(dir, "src.mp4", 320, 240, 1, "24");
        var output = Path.Combine(dir, "out.mp4");
        using (var writer = new VideoFrameWriter(Tools, output, 320, 240, new FrameRate(24, 1), source))
        {
            using var frame = new Mat(240, 320, MatType.CV_8UC3, new Scalar(10, 200, 30));
            for (var i = 0; i < 24; i++) writer.Write(frame);
            await writer.FinishAsync();
        }
        var info = await Probe.ProbeAsync(output);
        Assert.Equal(("h264", "yuv420p"), (info.VideoCodec, info.PixelFormat));
        Assert.True(info.HasAudio);
        Assert.Equal(24, await Probe.CountFramesAsync(output));
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    public void Reads_image_size_from_the_header(string format)
    {
        var path = Path.Combine(TestData.TempDir(), $"img.{format}");
        TestData.Ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=640x360", "-frames:v", "1", path);
        var info = ImageHeader.Read(File.ReadAllBytes(path))!;
        Assert.Equal((640, 360), (info.Width, info.Height));
        Assert.Null(ImageHeader.Read("GIF89a....."u8));
    }

    [Fact]
    public async Task A_truncated_file_is_a_clear_media_error()
    {
        var dir = TestData.TempDir();
        var good = TestData.MakeVideo(dir, "good.mp4", 320, 240, 1, "24");
        var bad = Path.Combine(dir, "bad.mp4");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(bad, bytes[..(bytes.Length / 3)]);
        var ex = await Assert.ThrowsAsync<MediaException>(() => Probe.ProbeAsync(bad));
        Assert.Contains("not a readable video", ex.Message);
    }
}
