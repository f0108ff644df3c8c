using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Roto.Core;
using Roto.Media;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>
/// Faults outside Roto's control: ffmpeg or ffprobe that hangs or dies, a disk below its free-space floor, a database
/// another process holds locked, a callback receiver that is down. Roto's tool paths point at a small script that
/// runs the real tool unless told to hang or kill itself (fault injection into an external program; Roto itself
/// runs unchanged). Each fault ends in a clear reason, and the server keeps serving.
/// </summary>
public sealed class FaultTests(FaultTests.App app) : IClassFixture<FaultTests.App>
{
    public sealed class App : IDisposable
    {
        // Short enough that the hang tests end soon, long enough that a real ffmpeg on a loaded CI machine meets them.
        public const string ProbeTimeout = "00:00:08";
        public const string StallTimeout = "00:00:08";

        public App()
        {
            Tools = TestData.TempDir("roto-fault-tools");
            Ffmpeg = FaultScript("ffmpeg");
            Ffprobe = FaultScript("ffprobe");
            Video = TestData.MakeVideo(Tools, "small.mp4", 320, 240, 1.5, "24", audio: false);
            Roto = new RotoApp(new(Settings(Ffmpeg, Ffprobe)) { ["Logging:LogLevel:Default"] = "Information" }, services: s =>
            {
                Logs.Install(s);
            });
        }

        public string Tools { get; }
        public string Ffmpeg { get; }
        public string Ffprobe { get; }
        public string Video { get; }
        public CapturedLogs Logs { get; } = new();
        public RotoApp Roto { get; }
        private string? _session;

        /// <summary>The fixture's settings: the fault script's tools, with timeouts short enough for the hang tests.</summary>
        private static Dictionary<string, string?> Settings(string ffmpeg, string ffprobe)
        {
            var settings = PlainSettings();
            settings["Roto:Media:FfmpegPath"] = ffmpeg;
            settings["Roto:Media:FfprobePath"] = ffprobe;
            settings["Roto:Media:ProbeTimeout"] = ProbeTimeout;
            settings["Roto:Media:StallTimeout"] = StallTimeout;
            // Clicks decode their frame through the ffmpeg under test, not in process.
            settings["Roto:Media:DecodeClicksInProcess"] = "false";
            return settings;
        }

        /// <summary>The real tools with their default timeouts, for faults that are not the tools'.</summary>
        public static Dictionary<string, string?> PlainSettings() => new()
        {
            ["Roto:Limits:Profile"] = "relaxed",
            ["Roto:AllowPrivateNetworks"] = "true",
            ["Roto:Callbacks:FirstRetryDelay"] = "00:00:00.100",
            // Room for at least three attempts even when a loaded machine makes each failed connection slow.
            ["Roto:Callbacks:GiveUpAfter"] = "00:00:05",
        };

        /// <summary>Makes the tool hang ("hang"), kill itself ("die") or behave (null) from its next start on.</summary>
        public void SetMode(string script, string? mode)
        {
            if (mode == null) File.Delete(script + ".mode");
            else File.WriteAllText(script + ".mode", mode);
        }

        /// <summary>Process ids of the tool runs that hung.</summary>
        public int[] HungPids(string script) =>
            File.Exists(script + ".pids") ? File.ReadAllLines(script + ".pids").Where(l => l.Length > 0).Select(int.Parse).ToArray() : [];

        /// <summary>A session with a selection on frame 0, made once with the real tools.</summary>
        public async Task<string> SessionAsync(HttpClient client)
        {
            if (_session != null) return _session;
            var sid = (await Wire.InitAsync(client, Video))["session_id"]!.GetValue<string>();
            (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
            return _session = sid;
        }

        private string FaultScript(string tool)
        {
            var path = Path.Combine(Tools, tool);
            File.WriteAllText(path, $$"""
                #!/bin/sh
                # Runs the real {{tool}} unless a mode file beside this script says to hang or to die.
                mode=$(cat "$0.mode" 2>/dev/null)
                case "$mode" in
                  hang) echo $$ >> "$0.pids"; exec sleep 300 ;;
                  die) kill -9 $$ ;;
                esac
                exec {{tool}} "$@"
                """.Replace("\r", ""));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return path;
        }

        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";

    // --- ffprobe / ffmpeg that hang or die ---

    [Fact]
    public async Task Ffprobe_that_hangs_is_killed_at_the_probe_timeout_and_init_fails_with_that_reason()
    {
        using var client = app.Roto.Client();
        var url = (await Wire.UploadAsync(client, app.Video)).Ok().Data["url"]!.GetValue<string>();
        app.SetMode(app.Ffprobe, "hang");
        Wire.Reply reply;
        var clock = Stopwatch.StartNew();
        try
        {
            reply = await Wire.PostAsync(client, $"{B}/init-selection", new { video_url = url });
        }
        finally
        {
            app.SetMode(app.Ffprobe, null);
        }
        clock.Stop();

        AssertToolFailure(reply, 504, 5002, "ffprobe did not finish within 8 s and was stopped");
        Assert.InRange(clock.Elapsed, TimeSpan.Parse(App.ProbeTimeout) - TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(60));
        var hung = app.HungPids(app.Ffprobe);
        Assert.NotEmpty(hung);
        Assert.All(hung, pid => Assert.False(IsAlive(pid), $"ffprobe {pid} was left running"));

        // The same request works once the tool behaves again: nothing was left stuck.
        var data = (await Wire.PostAsync(client, $"{B}/init-selection", new { video_url = url })).Ok().Data;
        Assert.Equal(36, data["total_frame"]!.GetValue<int>());
    }

    [Fact]
    public async Task Ffprobe_that_dies_fails_init_with_a_reason_that_blames_the_tool_not_the_file()
    {
        using var client = app.Roto.Client();
        var url = (await Wire.UploadAsync(client, app.Video)).Ok().Data["url"]!.GetValue<string>();
        app.SetMode(app.Ffprobe, "die");
        Wire.Reply reply;
        try
        {
            reply = await Wire.PostAsync(client, $"{B}/init-selection", new { video_url = url });
        }
        finally
        {
            app.SetMode(app.Ffprobe, null);
        }
        AssertToolFailure(reply, 500, 5000, "ffprobe was killed by signal 9");
        Assert.DoesNotContain("not a readable video", reply.Message);
        Assert.Equal(200, (int)(await client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Ffmpeg_that_hangs_during_a_task_is_killed_after_the_stall_timeout_and_the_task_fails_with_that_reason()
    {
        using var client = app.Roto.Client();
        var sid = await app.SessionAsync(client);
        var failed = await RunRemovalWithFfmpegAsync(client, sid, "hang");
        Assert.Equal("failed", failed.Status);
        Assert.Contains("ffmpeg delivered no video frame for 8 s and was stopped", failed.Message);
        var hung = app.HungPids(app.Ffmpeg);
        Assert.NotEmpty(hung);
        Assert.All(hung, pid => Assert.False(IsAlive(pid), $"ffmpeg {pid} was left running"));
        Assert.Empty(RotoApp.WorkInProgressFiles(app.Roto.DataDir));

        // The worker survived: the next task on the same session succeeds.
        var next = await RunRemovalAsync(client, sid);
        Assert.True(next.Status == "succeed", next.Message);
    }

    [Fact]
    public async Task Ffmpeg_that_dies_during_a_task_fails_it_with_that_reason()
    {
        using var client = app.Roto.Client();
        var sid = await app.SessionAsync(client);
        var failed = await RunRemovalWithFfmpegAsync(client, sid, "die");
        Assert.Equal("failed", failed.Status);
        Assert.Contains("ffmpeg was killed by signal 9", failed.Message);
        Assert.Empty(RotoApp.WorkInProgressFiles(app.Roto.DataDir));
    }

    [Fact]
    public async Task Ffmpeg_that_dies_or_hangs_on_a_click_answers_with_a_server_error_naming_the_tool()
    {
        using var client = app.Roto.Client();
        var sid = await app.SessionAsync(client);
        Wire.Reply died, hung;
        try
        {
            app.SetMode(app.Ffmpeg, "die");
            died = await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 10, points = new[] { new { x = 0.5, y = 0.5 } } });
            app.SetMode(app.Ffmpeg, "hang");
            hung = await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 11, points = new[] { new { x = 0.5, y = 0.5 } } });
        }
        finally
        {
            app.SetMode(app.Ffmpeg, null);
        }
        died.Error(500, 5000, "ffmpeg was killed by signal 9 while decoding frame 10");
        hung.Error(504, 5002, "ffmpeg did not deliver frame 11 within 8 s and was stopped");
        Assert.All(app.HungPids(app.Ffmpeg), pid => Assert.False(IsAlive(pid), $"ffmpeg {pid} was left running"));
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 10, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
    }

    // --- disk, database, callbacks ---

    [Fact]
    public async Task Below_the_free_space_floor_a_task_fails_cleanly_uploads_are_refused_and_reads_still_work()
    {
        // A task queued while there was room (no worker yet) ...
        string dataDir, taskId;
        using (var before = new RotoApp(new(App.PlainSettings()) { ["Roto:Workers"] = "0" }))
        {
            dataDir = before.DataDir;
            using var client = before.Client();
            var sid = (await Wire.InitAsync(client, app.Video))["session_id"]!.GetValue<string>();
            (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
            taskId = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Ok().Data["task_id"]!.GetValue<string>();
        }
        var filesBefore = StoredFiles(dataDir);

        // ... meets a disk below the floor: the floor set above the free space, as a full disk would be.
        using (var full = new RotoApp(new(App.PlainSettings()) { ["Roto:Limits:MinFreeDiskBytes"] = long.MaxValue.ToString() }, dataDir))
        {
            using var client = full.Client();
            var done = await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(2));
            Assert.Equal("failed", done["task_status"]!.GetValue<string>());
            Assert.Contains("disk space", done["task_status_msg"]!.GetValue<string>());

            (await Wire.UploadAsync(client, app.Video)).Error(503, 5001, "low on disk space");
            (await Wire.GetAsync(client, $"{B}/{taskId}")).Ok();
            Assert.Equal(200, (int)(await client.GetAsync("/health")).StatusCode);
            Assert.Empty(RotoApp.WorkInProgressFiles(dataDir));
            Assert.Equal(filesBefore, StoredFiles(dataDir));
        }

        // Space back: the same data directory takes work again.
        using var freed = new RotoApp(App.PlainSettings(), dataDir);
        using var again = freed.Client();
        (await Wire.UploadAsync(again, app.Video)).Ok();
    }

    [Fact]
    public async Task Requests_wait_out_a_database_locked_by_another_process_and_succeed()
    {
        using var client = app.Roto.Client();
        (await Wire.GetAsync(client, B)).Ok();
        var hold = TimeSpan.FromSeconds(3);
        await using var other = new SqliteConnection($"Data Source={Path.Combine(app.Roto.DataDir, "roto.db")};Pooling=False");
        await other.OpenAsync();
        await Exec(other, "BEGIN EXCLUSIVE;");
        var locked = Stopwatch.StartNew();
        var release = Task.Run(async () =>
        {
            await Task.Delay(hold);
            await Exec(other, "COMMIT;");
        });

        var upload = TimedAsync(() => Wire.UploadAsync(client, app.Video));     // writes a file record
        var list = TimedAsync(() => Wire.GetAsync(client, B));                 // reads
        var results = await Task.WhenAll(upload, list);
        await release;

        results[0].Reply.Ok();
        results[1].Reply.Ok();
        // The write really met the lock: it finished only after the other process let go.
        Assert.True(results[0].Finished >= hold - TimeSpan.FromMilliseconds(300), $"the upload finished {results[0].Finished} after the lock, before its release");
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level >= LogLevel.Error && e.Text.Contains("database is locked"));

        async Task<(Wire.Reply Reply, TimeSpan Finished)> TimedAsync(Func<Task<Wire.Reply>> call)
        {
            var reply = await call();
            return (reply, locked.Elapsed);
        }
    }

    [Fact]
    public async Task A_callback_receiver_that_is_down_is_retried_then_given_up_and_the_log_says_so()
    {
        using var client = app.Roto.Client();
        var sid = await app.SessionAsync(client);
        using var refusing = RefusingSocket();
        var port = ((IPEndPoint)refusing.LocalEndPoint!).Port;
        var taskId = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x", callback_url = $"http://127.0.0.1:{port}/hook" }))
            .Ok().Data["task_id"]!.GetValue<string>();
        var done = await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(2));
        Assert.True(done["task_status"]!.GetValue<string>() == "succeed", done.ToJsonString());

        // submitted, processing, succeed: each retried with back-off, then abandoned with a warning.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<CapturedLogs.Entry> abandoned;
        while ((abandoned = Abandoned(taskId)).Count < 3 && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(3, abandoned.Count);
        foreach (var warning in abandoned)
        {
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.True(Convert.ToInt32(warning.Values.Single(v => v.Key == "Attempts").Value) >= 3, warning.Message);
            Assert.Contains("127.0.0.1", warning.Values.Single(v => v.Key == "Error").Value?.ToString());
        }
        Assert.Contains(app.Logs.Entries, e => e.Level == LogLevel.Information && e.Message.Contains($"for task {taskId} failed") && e.Message.Contains("retry"));

        // The warning is logged as the state changes, and the sender saves it just after: wait for the saved state.
        await using var db = new SqliteConnection($"Data Source={Path.Combine(app.Roto.DataDir, "roto.db")};Pooling=False");
        await db.OpenAsync();
        List<(string State, long Count)> states;
        var savedBy = DateTime.UtcNow.AddSeconds(30);
        while (!(states = await CallbackStatesAsync()).SequenceEqual([("abandoned", 3L)]) && DateTime.UtcNow < savedBy) await Task.Delay(200);
        Assert.Equal([("abandoned", 3L)], states);

        async Task<List<(string State, long Count)>> CallbackStatesAsync()
        {
            var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT State, COUNT(*) FROM Callbacks WHERE TaskId = $id GROUP BY State";
            cmd.Parameters.AddWithValue("$id", taskId);
            await using var reader = await cmd.ExecuteReaderAsync();
            var rows = new List<(string, long)>();
            while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetInt64(1)));
            return rows;
        }
    }

    // --- helpers ---

    private sealed record JsonNodeTask(string Status, string Message);

    /// <summary>A removal task run while ffmpeg behaves as <paramref name="mode"/> says; ffmpeg behaves again afterwards.</summary>
    private async Task<JsonNodeTask> RunRemovalWithFfmpegAsync(HttpClient client, string sid, string mode)
    {
        app.SetMode(app.Ffmpeg, mode);
        try
        {
            return await RunRemovalAsync(client, sid);
        }
        finally
        {
            app.SetMode(app.Ffmpeg, null);
        }
    }

    private static async Task<JsonNodeTask> RunRemovalAsync(HttpClient client, string sid)
    {
        var taskId = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Ok().Data["task_id"]!.GetValue<string>();
        var done = await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(2));
        return new JsonNodeTask(done["task_status"]!.GetValue<string>(), done["task_status_msg"]?.GetValue<string>() ?? "");
    }

    /// <summary>A tool failure is the server's fault (5000, or 5002 for a timeout), never the file's (1201), and names the tool's reason.</summary>
    private static void AssertToolFailure(Wire.Reply reply, int status, int code, string reason)
    {
        Assert.True(reply.Status == status && reply.Code == code, $"got HTTP {reply.Status}: {reply.Body.ToJsonString()}");
        Assert.Contains(reason, reply.Message);
    }

    private List<CapturedLogs.Entry> Abandoned(string taskId) =>
        app.Logs.Entries.Where(e => e.Message.Contains($"for task {taskId} abandoned after")).ToList();

    private static int StoredFiles(string dataDir) =>
        Directory.GetFiles(Path.Combine(dataDir, "files"), "*", SearchOption.AllDirectories).Length;

    /// <summary>Alive means running: gone from /proc, or a zombie waiting to be reaped, counts as dead.</summary>
    private static bool IsAlive(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            string stat;
            try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
            catch (IOException) { return false; }
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            if (state is "Z" or "X") return false;
            Thread.Sleep(100);
        }
        return true;
    }

    private static async Task Exec(SqliteConnection connection, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A socket bound to a loopback port but not listening: connections to it are refused at once, and while it is held
    /// no other process can listen there and the kernel cannot pick it as a client's own port (which would make a
    /// connection to it reach itself and hang until the callback timeout instead of being refused).
    /// </summary>
    private static System.Net.Sockets.Socket RefusingSocket()
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
