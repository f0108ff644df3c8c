using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>
/// Files as they come from cameras, phones, editors and broken transfers, each through upload and init-selection
/// under the default (kling) profile: accepted and normalised to a clean H.264 stream whose frame count is exactly
/// what decodes, or refused with 400/1201 and a message a person understands, leaving nothing behind.
/// </summary>
public sealed class WildMediaTests(WildMediaTests.App app) : IClassFixture<WildMediaTests.App>
{
    public sealed class App : IDisposable
    {
        public RotoApp Roto { get; } = new();
        public string Dir { get; } = TestData.TempDir("roto-wild");
        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";

    /// <summary>A safety net for a hung request, not a speed claim.</summary>
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);

    // --- accepted and normalised ---

    [Fact]
    public async Task A_moov_atom_at_the_end_is_accepted_and_the_normalized_video_starts_with_it()
    {
        var path = TestData.MakeVideo(app.Dir, "moov-at-end.mp4", 1280, 720, 2.5, "24");
        Assert.True(AtomIndex(path, "moov") > AtomIndex(path, "mdat"), "the input must have its moov atom after the media data");

        var (data, normalized) = await AcceptedAsync(path);
        Assert.Equal(60, data["total_frame"]!.GetValue<int>());
        Assert.True(AtomIndex(normalized, "moov") < AtomIndex(normalized, "mdat"), "the normalized video must be faststart (moov first) for browsers");
    }

    [Fact]
    public async Task Garbage_in_the_middle_of_an_mp4_is_accepted_with_every_frame_decodable()
    {
        var bytes = await File.ReadAllBytesAsync(Faststart("for-corruption.mp4"));
        // 20 kB of noise a third of the way into the media data, as a bad transfer or a failing card leaves it.
        new Random(8).NextBytes(bytes.AsSpan(bytes.Length / 3, 20_000));
        var path = Path.Combine(app.Dir, "garbage-inside.mp4");
        await File.WriteAllBytesAsync(path, bytes);

        var (data, _) = await AcceptedAsync(path);
        Assert.Equal(60, data["total_frame"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_faststart_mp4_cut_in_half_is_accepted_with_the_frames_that_exist()
    {
        var bytes = await File.ReadAllBytesAsync(Faststart("for-truncation.mp4"));
        var path = Path.Combine(app.Dir, "cut-in-half.mp4");
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);

        // The header still promises 60 frames; only what arrived can be served, and every frame counted must decode.
        var (data, _) = await AcceptedAsync(path);
        Assert.InRange(data["total_frame"]!.GetValue<int>(), 20, 45);
    }

    [Fact]
    public async Task Interlaced_video_is_deinterlaced_with_its_frame_count_kept()
    {
        var path = Path.Combine(app.Dir, "interlaced.mp4");
        TestData.Ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=60000/1001:duration=2.2", "-vf", "interlace",
            "-c:v", "libx264", "-preset", "ultrafast", "-flags", "+ildct+ilme", "-x264opts", "tff=1", "-pix_fmt", "yuv420p", path);
        Assert.Equal("tt", await StreamFieldAsync(path, "field_order"));

        var (data, normalized) = await AcceptedAsync(path);
        Assert.Equal(29.97, data["fps"]!.GetValue<double>());
        Assert.Equal(await DecodedFramesAsync(path), data["total_frame"]!.GetValue<int>());
        Assert.Equal("progressive", await StreamFieldAsync(normalized, "field_order"));
    }

    [Fact]
    public async Task Ten_bit_video_is_converted_to_8_bit_4_2_0_with_its_frame_count_kept()
    {
        var path = Path.Combine(app.Dir, "ten-bit.mp4");
        TestData.Ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24:duration=2.2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", path);
        Assert.Equal("yuv420p10le", await StreamFieldAsync(path, "pix_fmt"));

        var (data, _) = await AcceptedAsync(path);
        Assert.Equal(await DecodedFramesAsync(path), data["total_frame"]!.GetValue<int>());
    }

    [Fact]
    public async Task Odd_sized_4_4_4_video_loses_its_odd_column_and_row_and_keeps_every_frame()
    {
        var path = Path.Combine(app.Dir, "odd-444.mp4");
        // testsrc (unlike testsrc2) keeps odd sizes; yuv444p lets x264 encode them.
        TestData.Ffmpeg("-f", "lavfi", "-i", "testsrc=size=1281x721:rate=24:duration=2.2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", path);
        Assert.Equal(("1281", "721", "yuv444p"), (await StreamFieldAsync(path, "width"), await StreamFieldAsync(path, "height"), await StreamFieldAsync(path, "pix_fmt")));

        // Both sides are inside 720–2160, so the kling profile takes it; H.264 4:2:0 needs even sides.
        var (data, normalized) = await AcceptedAsync(path);
        Assert.Equal((1280, 720), (data["width"]!.GetValue<int>(), data["height"]!.GetValue<int>()));
        Assert.Equal(("1280", "720"), (await StreamFieldAsync(normalized, "width"), await StreamFieldAsync(normalized, "height")));
        Assert.Equal(await DecodedFramesAsync(path), data["total_frame"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_portrait_phone_video_is_served_upright()
    {
        var plain = TestData.MakeVideo(app.Dir, "landscape-coded.mp4", 1280, 720, 2.2, "30", audio: false);
        var path = Path.Combine(app.Dir, "portrait.mp4");
        TestData.Ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", path);

        var (data, normalized) = await AcceptedAsync(path);
        Assert.Equal((720, 1280), (data["width"]!.GetValue<int>(), data["height"]!.GetValue<int>()));
        Assert.Equal(("720", "1280"), (await StreamFieldAsync(normalized, "width"), await StreamFieldAsync(normalized, "height")));
        Assert.Equal(0, (await new Ffprobe(new MediaTools()).ProbeAsync(normalized)).Rotation);
    }

    // --- refused with a reason ---

    [Fact]
    public async Task A_zero_byte_upload_is_refused()
    {
        var path = Path.Combine(app.Dir, "empty.mp4");
        await File.WriteAllBytesAsync(path, []);
        using var client = app.Roto.Client();
        (await Wire.UploadAsync(client, path)).Error(400, 1201, "empty");
    }

    [Fact]
    public async Task An_image_renamed_mp4_is_refused_as_an_image()
    {
        var png = Path.Combine(app.Dir, "photo.png");
        TestData.Ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=1280x720", "-frames:v", "1", png);
        var path = Path.Combine(app.Dir, "photo.mp4");
        File.Copy(png, path, overwrite: true);
        await RefusedAsync(path, "png image, not a video");
    }

    [Fact]
    public async Task Text_is_refused_at_upload_as_text_without_naming_server_paths()
    {
        var path = Path.Combine(app.Dir, "notes.txt");
        await File.WriteAllTextAsync(path, string.Concat(Enumerable.Repeat("this is not a video at all\n", 200)));
        using var client = app.Roto.Client();
        var reply = (await Wire.UploadAsync(client, path)).Error(400, 1201, "file is text");
        Assert.DoesNotContain(app.Roto.DataDir, reply.Message);
        Assert.Empty(RotoApp.WorkInProgressFiles(app.Roto.DataDir));
    }

    [Fact]
    public async Task Audio_only_is_refused_as_audio()
    {
        var path = Path.Combine(app.Dir, "voice-memo.mp4");
        TestData.Ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=3", "-c:a", "aac", path);
        await RefusedAsync(path, "only audio");
    }

    [Fact]
    public async Task An_8k_video_is_refused_from_its_header_before_any_decoding()
    {
        var path = Path.Combine(app.Dir, "8k.mp4");
        TestData.Ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=7680x4320:r=1:d=2.2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path);
        await RefusedAsync(path, "7680×4320");
    }

    [Fact]
    public async Task A_ten_minute_video_is_refused_from_its_header_before_any_decoding()
    {
        var two = Path.Combine(app.Dir, "two-seconds-flat.mp4");
        TestData.Ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=1280x720:rate=24:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", two);
        var path = Path.Combine(app.Dir, "ten-minutes.mp4");
        TestData.Ffmpeg("-stream_loop", "299", "-i", two, "-c", "copy", path);
        await RefusedAsync(path, "lasts 600 s");
    }

    // --- helpers ---

    private string Faststart(string name)
    {
        var moovAtEnd = TestData.MakeVideo(app.Dir, $"src-{name}", 1280, 720, 2.5, "24");
        var path = Path.Combine(app.Dir, name);
        TestData.Ffmpeg("-i", moovAtEnd, "-c", "copy", "-movflags", "+faststart", path);
        return path;
    }

    /// <summary>
    /// Uploads and opens a session; checks the normalized video is H.264 yuv420p, progressive, and decodes to exactly
    /// total_frame frames. Returns the init data and a local copy of the normalized video.
    /// </summary>
    private async Task<(JsonNode Data, string Normalized)> AcceptedAsync(string path)
    {
        using var client = app.Roto.Client();
        var clock = Stopwatch.StartNew();
        var data = await Wire.InitAsync(client, path);
        Assert.True(clock.Elapsed < Generous, $"init took {clock.Elapsed}");

        var normalized = Path.Combine(app.Dir, $"normalized-{Path.GetFileName(path)}");
        await File.WriteAllBytesAsync(normalized, await Wire.DownloadAsync(client, data["normalized_video"]!.GetValue<string>()));
        Assert.Equal("h264", await StreamFieldAsync(normalized, "codec_name"));
        Assert.Equal("yuv420p", await StreamFieldAsync(normalized, "pix_fmt"));
        Assert.Equal(await DecodedFramesAsync(normalized), data["total_frame"]!.GetValue<int>());
        return (data, normalized);
    }

    /// <summary>Upload works, init answers 400/1201 naming video_url and the problem, and no file is left behind.</summary>
    private async Task<string> RefusedAsync(string path, string mentions)
    {
        using var client = app.Roto.Client();
        var url = (await Wire.UploadAsync(client, path)).Ok().Data["url"]!.GetValue<string>();
        var normalizedBefore = NormalizedFiles();
        var clock = Stopwatch.StartNew();
        var reply = (await Wire.PostAsync(client, $"{B}/init-selection", new { video_url = url })).Error(400, 1201, mentions);
        Assert.True(clock.Elapsed < Generous, $"the refusal took {clock.Elapsed}");
        Assert.StartsWith("video_url:", reply.Message);
        Assert.DoesNotContain(app.Roto.DataDir, reply.Message);
        Assert.DoesNotContain(" @ 0x", reply.Message);
        Assert.Equal(normalizedBefore, NormalizedFiles());
        Assert.Empty(RotoApp.WorkInProgressFiles(app.Roto.DataDir));
        return reply.Message;
    }

    private int NormalizedFiles()
    {
        var dir = Path.Combine(app.Roto.DataDir, "files", "normalized");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Length : 0;
    }

    private static async Task<string> StreamFieldAsync(string path, string field) =>
        await FfprobeAsync(path, "-select_streams", "v:0", "-show_entries", $"stream={field}", "-of", "csv=p=0");

    /// <summary>Frames that actually decode (not what the header claims).</summary>
    private static async Task<int> DecodedFramesAsync(string path) =>
        int.Parse(await FfprobeAsync(path, "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"));

    private static async Task<string> FfprobeAsync(string path, params string[] args)
    {
        var result = await ProcessRunner.RunAsync("ffprobe", ["-v", "quiet", .. args, path], TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(0, result.ExitCode);
        return result.StdOut.Trim().TrimEnd(',');
    }

    /// <summary>The position of a top-level ISO-BMFF box, or -1.</summary>
    private static long AtomIndex(string path, string type)
    {
        using var file = File.OpenRead(path);
        Span<byte> header = stackalloc byte[16];
        long position = 0;
        while (position + 8 <= file.Length)
        {
            file.Position = position;
            file.ReadExactly(header[..8]);
            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            var name = System.Text.Encoding.ASCII.GetString(header[4..8]);
            if (size == 1)
            {
                file.ReadExactly(header[8..16]);
                size = (long)BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
            }
            else if (size == 0)
            {
                size = file.Length - position;
            }
            if (name == type) return position;
            if (size < 8) return -1;
            position += size;
        }
        return -1;
    }
}
