using Roto.TestSupport;

namespace Roto.Media.Tests;

/// <summary>Damaged and odd files at the media layer: what the API adds nothing to.</summary>
public sealed class HostileFileTests
{
    private static readonly MediaTools Tools = new();
    private static readonly Ffprobe Probe = new(Tools);

    [Fact]
    public async Task A_zero_byte_file_is_called_empty()
    {
        var path = Path.Combine(TestData.TempDir(), "zero.mp4");
        await File.WriteAllBytesAsync(path, []);
        Assert.Equal("the file is empty (0 bytes)", (await Assert.ThrowsAsync<MediaException>(() => Probe.ProbeAsync(path))).Message);
    }

    [Fact]
    public async Task A_damaged_stream_is_re_encoded_so_that_every_counted_frame_decodes()
    {
        var dir = TestData.TempDir();
        var source = TestData.MakeVideo(dir, "src.mp4", 320, 240, 2, "24", audio: false);
        var faststart = Path.Combine(dir, "fast.mp4");
        TestData.Ffmpeg("-i", source, "-c", "copy", "-movflags", "+faststart", faststart);
        var bytes = await File.ReadAllBytesAsync(faststart);
        var cut = Path.Combine(dir, "cut.mp4");
        await File.WriteAllBytesAsync(cut, bytes[..(bytes.Length * 2 / 3)]);

        var info = await Probe.ProbeAsync(cut);
        Assert.Equal(48, info.FrameCount); // the header still promises every frame
        var result = await new VideoNormalizer(Tools, Probe).NormalizeAsync(cut, info, info.Fps, Path.Combine(dir, "n.mp4"));
        Assert.False(result.StreamCopied);
        using var reader = new VideoFrameReader(Tools, result.Path, 32, 24, gray: true);
        Assert.Equal(result.FrameCount, reader.Frames().Count(f => { f.Dispose(); return true; }));
        Assert.InRange(result.FrameCount, 20, 40);
    }

    [Theory]
    [InlineData("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55edfd6741c0] moov atom not found\n/srv/roto/data/files/upload/x.mp4: Invalid data", "moov atom not found")]
    [InlineData("/srv/roto/data/files/upload/20261125/1234.bin: Invalid data found when processing input", "Invalid data found when processing input")]
    [InlineData("\n\nError opening output /srv/roto/data/files/tmp/ab.mp4: No space left on device", "Error opening output the file: No space left on device")]
    public void Tool_messages_lose_their_context_prefixes_and_server_paths(string stderr, string expected) =>
        Assert.Equal(expected, MediaMessages.Detail(stderr));
}
