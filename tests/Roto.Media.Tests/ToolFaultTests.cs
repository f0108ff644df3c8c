using System.Diagnostics;
using Roto.TestSupport;

namespace Roto.Media.Tests;

/// <summary>
/// ffmpeg/ffprobe that hang or die, simulated by small scripts in their place: every run ends within its deadline,
/// the child is killed, and the error says it was the tool, not the file.
/// </summary>
public sealed class ToolFaultTests
{
    private static string Script(string name, string body)
    {
        var path = Path.Combine(TestData.TempDir("roto-tool"), name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public async Task A_run_past_its_deadline_is_killed_and_reported_as_a_timeout()
    {
        var pidFile = Path.GetTempFileName();
        var hang = Script("ffprobe", $"echo $$ > {pidFile}; exec sleep 300");
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MediaToolException>(() => new Ffprobe(new MediaTools { FfprobePath = hang, ProbeTimeout = TimeSpan.FromSeconds(1) })
            .ProbeAsync(TestData.Clip("01_dog.mp4")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal(ToolFailure.TimedOut, ex.Failure);
        Assert.Equal("ffprobe did not finish within 1 s and was stopped", ex.Message);
        Assert.False(Directory.Exists($"/proc/{File.ReadAllText(pidFile).Trim()}"), "the hung child must be gone");
    }

    [Fact]
    public async Task An_encoder_that_stops_reading_is_killed_and_reported_as_stalled()
    {
        var hang = Script("ffmpeg", "exec sleep 300");
        var tools = new MediaTools { FfmpegPath = hang, StallTimeout = TimeSpan.FromSeconds(1) };
        var output = Path.Combine(TestData.TempDir("roto-writer"), "out.mp4");
        using var frame = new OpenCvSharp.Mat(240, 320, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(128));
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MediaToolException>(async () =>
        {
            using var writer = new VideoFrameWriter(tools, output, 320, 240, new FrameRate(24, 1));
            // The pipe takes a frame or so before it is full; then a write blocks until the watchdog kills the child.
            for (var i = 0; i < 50; i++) writer.Write(frame);
            await writer.FinishAsync();
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal(ToolFailure.Stalled, ex.Failure);
        Assert.Equal("ffmpeg accepted no video frame for 1 s and was stopped", ex.Message);
    }

    [Fact]
    public async Task A_tool_killed_by_a_signal_is_reported_as_a_crash_not_as_a_bad_file()
    {
        var die = Script("ffprobe", "kill -9 $$");
        var ex = await Assert.ThrowsAsync<MediaToolException>(() => new Ffprobe(new MediaTools { FfprobePath = die }).ProbeAsync(TestData.Clip("01_dog.mp4")));
        Assert.Equal(ToolFailure.Crashed, ex.Failure);
        Assert.Equal("ffprobe was killed by signal 9 while reading the file", ex.Message);
    }

    [Fact]
    public void A_frame_pipe_that_delivers_nothing_is_killed_after_the_stall_timeout()
    {
        var hang = Script("ffmpeg", "exec sleep 300");
        using var reader = new VideoFrameReader(new MediaTools { FfmpegPath = hang, StallTimeout = TimeSpan.FromSeconds(1) }, TestData.Clip("01_dog.mp4"), 64, 36);
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<MediaToolException>(() => reader.ReadFrame());
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
        Assert.Equal(ToolFailure.Stalled, ex.Failure);
    }

    [Fact]
    public void A_slow_caller_is_not_a_stall_only_a_silent_ffmpeg_is()
    {
        // The stall timeout leaves room for ffmpeg's start on a busy machine; the caller then outlasts it.
        using var reader = new VideoFrameReader(new MediaTools { StallTimeout = TimeSpan.FromSeconds(4) }, TestData.Clip("01_dog.mp4"), 64, 36, gray: true);
        using (var first = reader.ReadFrame()) Assert.NotNull(first);
        Thread.Sleep(5000); // longer than the stall timeout, spent by the caller
        using (var second = reader.ReadFrame()) Assert.NotNull(second);
    }

    [Fact]
    public void A_frame_pipe_whose_ffmpeg_dies_says_so()
    {
        var die = Script("ffmpeg", "kill -9 $$");
        using var reader = new VideoFrameReader(new MediaTools { FfmpegPath = die }, TestData.Clip("01_dog.mp4"), 64, 36);
        var ex = Assert.Throws<MediaToolException>(() => reader.ReadFrame());
        Assert.Equal("ffmpeg was killed by signal 9 while decoding the video", ex.Message);
    }

    [Fact]
    public async Task A_missing_tool_is_reported_as_one()
    {
        var ex = await Assert.ThrowsAsync<MediaToolException>(() =>
            new Ffprobe(new MediaTools { FfprobePath = "/nonexistent/ffprobe" }).ProbeAsync(TestData.Clip("01_dog.mp4")));
        Assert.Equal(ToolFailure.NotStarted, ex.Failure);
    }
}
