using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using Roto.Core;
using Roto.Core.Storage;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>
/// Several server instances on one database and one data directory, on each provider: tasks are owned under a lease
/// (a live one is left alone, a lapsed one is taken up, a lost one writes nothing), the per-account task limit holds
/// across instances, and clicks racing on one session through two instances are all kept.
/// </summary>
public sealed class SharedDatabaseTests
{
    private const string B = "/v1/videos/multi-elements";

    /// <summary>One database for the instances of one test, with a way to read and change rows behind their backs.</summary>
    private sealed class Db
    {
        private readonly string? _postgres;
        public string DataDir { get; } = TestData.TempDir("roto-shared");

        public Db(string provider) => _postgres = provider == "postgres" ? TestPostgres.NewDatabase() : null;

        public Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
        {
            // Small videos keep the tasks short (the relaxed profile takes them).
            var s = new Dictionary<string, string?> { ["Roto:Limits:Profile"] = "relaxed" };
            if (_postgres != null)
            {
                s["Roto:Database:Provider"] = "postgres";
                s["Roto:Database:ConnectionString"] = _postgres;
            }
            foreach (var (k, v) in more ?? []) s[k] = v;
            return s;
        }

        public RotoApp App(Dictionary<string, string?>? more = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
            new(Settings(more), DataDir, services);

        public int Execute(string sql, params (string Name, object Value)[] args)
        {
            using var connection = Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (name, value) in args)
            {
                var p = cmd.CreateParameter();
                p.ParameterName = name;
                p.Value = value;
                cmd.Parameters.Add(p);
            }
            return cmd.ExecuteNonQuery();
        }

        public List<object?[]> Rows(string sql, string id)
        {
            using var connection = Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            var p = cmd.CreateParameter();
            p.ParameterName = "id";
            p.Value = id;
            cmd.Parameters.Add(p);
            using var reader = cmd.ExecuteReader();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                rows.Add(row);
            }
            return rows;
        }

        public (string Status, string? Owner, int Attempts, string? ResultKey) Task(string id)
        {
            var row = Rows("""SELECT "Status", "LeaseOwner", "Attempts", "ResultKey" FROM "Tasks" WHERE "Id" = @id""", id).Single();
            return ((string)row[0]!, (string?)row[1], Convert.ToInt32(row[2]), (string?)row[3]);
        }

        private System.Data.Common.DbConnection Open()
        {
            System.Data.Common.DbConnection c = _postgres != null
                ? new NpgsqlConnection(_postgres)
                : new SqliteConnection($"Data Source={Path.Combine(DataDir, "roto.db")};Pooling=False;Default Timeout=30");
            c.Open();
            return c;
        }
    }

    private static async Task<string> SelectedSessionAsync(HttpClient client)
    {
        var sid = (await Wire.InitAsync(client, Videos.Sized(320, 180, 1.5, "24", "small320.mp4")))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        return sid;
    }

    private static async Task<string> RemoveAsync(HttpClient client, string sid) =>
        (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Ok().Data["task_id"]!.GetValue<string>();

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited in vain for {what}");
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_task_under_a_live_lease_is_left_alone_and_taken_up_once_the_lease_lapses(string provider)
    {
        var db = new Db(provider);
        string held;
        using (var queue = db.App(new() { ["Roto:Workers"] = "0" }))
        {
            using var client = queue.Client();
            held = await RemoveAsync(client, await SelectedSessionAsync(client));
        }
        // As a worker that is alive elsewhere leaves it: processing, owned, its lease an hour ahead.
        Assert.Equal(1, db.Execute("""UPDATE "Tasks" SET "Status" = 'processing', "LeaseOwner" = 'elsewhere', "LeaseExpiresAt" = @until, "Attempts" = 1 WHERE "Id" = @id""",
            ("until", Now + 3_600_000), ("id", held)));

        using var worker = db.App(new() { ["Roto:TaskLease"] = "00:00:02" });
        using var c = worker.Client();
        // The worker is up, has looked for lapsed tasks and runs others; the held one is not its to take.
        var other = await RemoveAsync(c, await SelectedSessionAsync(c));
        Assert.Equal("succeed", (await Wire.WaitForTaskAsync(c, other, TimeSpan.FromMinutes(3)))["task_status"]!.GetValue<string>());
        Assert.Equal(("processing", "elsewhere", 1, (string?)null), db.Task(held));

        // Its owner dies: the lease lapses, and this worker finishes the task as its second attempt.
        db.Execute("""UPDATE "Tasks" SET "LeaseExpiresAt" = @past WHERE "Id" = @id""", ("past", Now - 1), ("id", held));
        Assert.Equal("succeed", (await Wire.WaitForTaskAsync(c, held, TimeSpan.FromMinutes(3)))["task_status"]!.GetValue<string>());
        var done = db.Task(held);
        Assert.Equal(2, done.Attempts);
        Assert.Null(done.Owner);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_worker_that_loses_its_lease_stops_and_writes_nothing(string provider)
    {
        var db = new Db(provider);
        var logs = new CapturedLogs();
        using var app = db.App(new() { ["Roto:TaskLease"] = "00:00:01.500", ["Logging:LogLevel:Default"] = "Information" }, logs.Install);
        using var client = app.Client();
        var taskId = await RemoveAsync(client, await SelectedSessionAsync(client));
        await UntilAsync(() => db.Task(taskId).Status == "processing", "the task to start");

        // Another process takes the task over (as if this one had paused past its lease).
        Assert.Equal(1, db.Execute("""UPDATE "Tasks" SET "LeaseOwner" = 'thief', "LeaseExpiresAt" = @until WHERE "Id" = @id""", ("until", Now + 3_600_000), ("id", taskId)));
        await UntilAsync(() => logs.Entries.Any(e => e.Message.Contains(taskId) && (e.Message.Contains("lost its lease") || e.Message.Contains("lease was lost"))),
            "the worker to notice that it lost the task");
        var after = db.Task(taskId);
        Assert.Equal(("processing", "thief", (string?)null), (after.Status, after.Owner, after.ResultKey));
        Assert.Empty(db.Rows("""SELECT "Key" FROM "Files" WHERE "OwnerId" = @id AND "Kind" = 'result'""", taskId));

        // The thief dies in turn: the task is taken up again and finishes once.
        db.Execute("""UPDATE "Tasks" SET "LeaseExpiresAt" = @past WHERE "Id" = @id""", ("past", Now - 1), ("id", taskId));
        Assert.Equal("succeed", (await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(3)))["task_status"]!.GetValue<string>());
        Assert.Equal(2, db.Task(taskId).Attempts);
        Assert.Single(db.Rows("""SELECT "Key" FROM "Files" WHERE "OwnerId" = @id AND "Kind" = 'result'""", taskId));
    }

    [Fact]
    public async Task On_postgres_a_worker_hears_of_a_new_task_at_once_instead_of_at_its_next_poll()
    {
        var db = new Db("postgres");
        using var api = db.App(new() { ["Roto:Role"] = "api" });
        // A poll this far apart means that only the notification can start the task within the test's wait.
        using var worker = db.App(new() { ["Roto:Role"] = "worker", ["Roto:TaskPollInterval"] = "01:00:00" });
        using var client = api.Client();
        using var workerClient = worker.Client();
        Assert.Equal(200, (int)(await workerClient.GetAsync("/health")).StatusCode);
        var taskId = await RemoveAsync(client, await SelectedSessionAsync(client));
        Assert.Equal("succeed", (await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(5)))["task_status"]!.GetValue<string>());
        Assert.Equal(1, db.Task(taskId).Attempts);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task The_per_account_task_limit_holds_across_instances(string provider)
    {
        var db = new Db(provider);
        var settings = new Dictionary<string, string?> { ["Roto:Workers"] = "0", ["Roto:Limits:MaxConcurrentTasks"] = "2" };
        using var a = db.App(settings);
        using var b = db.App(settings);
        using var ca = a.Client();
        using var cb = b.Client();
        var sid = await SelectedSessionAsync(ca);
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Wire.PostAsync(i % 2 == 0 ? ca : cb, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })));
        Assert.Equal(2, replies.Count(r => r.Status == 200));
        Assert.All(replies.Where(r => r.Status != 200), r => r.Error(429, 1303));
        Assert.Equal(2, db.Rows("""SELECT "Id" FROM "Tasks" WHERE "AccountId" <> @id""", "").Count);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Clicks_racing_on_one_session_through_two_instances_are_all_kept(string provider)
    {
        var db = new Db(provider);
        using var a = db.App(new() { ["Roto:Workers"] = "0" });
        using var b = db.App(new() { ["Roto:Workers"] = "0" });
        using var ca = a.Client();
        using var cb = b.Client();
        var sid = (await Wire.InitAsync(ca, Videos.Short720))["session_id"]!.GetValue<string>();
        var points = Enumerable.Range(0, 8).Select(i => new { x = 0.3 + 0.05 * i, y = 0.5 }).ToList();
        var adds = await Task.WhenAll(points.Select((p, i) =>
            Wire.PostAsync(i % 2 == 0 ? ca : cb, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { p } })));
        Assert.All(adds, r => r.Ok());
        // Every click is there, and the stored mask is the one all of them make: a change computed from fewer clicks
        // than were saved (a lost race) would leave a mask that the same clicks, segmented again, do not reproduce.
        Assert.Equal(points.Count, db.Rows("""SELECT "Id" FROM "Points" WHERE "SessionId" = @id""", sid).Count);
        var stored = StoredMask(db, sid);
        (await Wire.PostAsync(cb, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { points[0] } })).Ok();
        Assert.Equal(stored, StoredMask(db, sid));
    }

    private static string StoredMask(Db db, string sid) =>
        (string)db.Rows("""SELECT "Counts" FROM "FrameMasks" WHERE "SessionId" = @id AND "FrameIndex" = 0 AND "ObjectId" = 0""", sid).Single()[0]!;

    [Fact]
    public void Processes_generating_a_secret_at_once_all_end_up_with_the_winner()
    {
        var dir = TestData.TempDir("roto-secret");
        var options = Options.Create(new RotoOptions { DataDir = dir });
        using var start = new Barrier(16);
        var seen = new string[16];
        var threads = Enumerable.Range(0, 16).Select(i => new Thread(() =>
        {
            var data = new DataDirectory(options);
            start.SignalAndWait();
            seen[i] = data.TextSecret("api-key.txt", () => $"candidate-{i}");
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Single(seen.Distinct());
        Assert.Equal(seen[0], File.ReadAllText(Path.Combine(dir, "api-key.txt")));
        Assert.Equal(["api-key.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }
}
