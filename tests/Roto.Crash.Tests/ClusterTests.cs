using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;
using Roto.TestSupport;
using Xunit.Abstractions;

namespace Roto.Crash.Tests;

/// <summary>
/// Several real server processes on one database and one data directory: a client drives sessions through the API
/// processes in turn (clicks, previews, tasks), and the worker running a task is killed with SIGKILL. Every task must
/// end (succeed, or fail with a reason), none may run to completion twice, every callback status must be delivered
/// once (a retry keeps its webhook-id), no click may be lost, and the per-account task limit must hold.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    private const int TaskLimit = 3;
    private const string Secret = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=";

    [Fact]
    public Task Two_api_processes_and_two_workers_on_postgres_survive_a_worker_killed_mid_task() =>
        RunAsync(postgres: true, roles: ["api", "api", "worker", "worker"]);

    [Fact]
    public Task Two_processes_on_one_sqlite_data_directory_survive_one_killed_mid_task() =>
        RunAsync(postgres: false, roles: ["all", "all"]);

    private async Task RunAsync(bool postgres, string[] roles)
    {
        var root = TestData.TempDir("roto-cluster");
        var dataDir = Path.Combine(root, "data");
        var db = new ClusterDb(postgres ? TestPostgres.NewDatabase() : null, dataDir);
        using var hooks = new CallbackReceiver();
        var settings = new Dictionary<string, string>
        {
            ["Roto__WebhookSecret"] = Secret,
            ["Roto__Limits__MaxConcurrentTasks"] = TaskLimit.ToString(),
            ["Roto__Callbacks__FirstRetryDelay"] = "00:00:00.200",
            // The crash tests' 2 s is too short here: under the whole suite's load, a process can take longer than that
            // between storing a new session's video and saving the session, and the sweeper would take the video for
            // one whose session never came. This scenario does not wait for the sweeper.
            ["Roto__OrphanFileAge"] = "00:01:00",
        };
        if (postgres)
        {
            settings["Roto__Database__Provider"] = "postgres";
            settings["Roto__Database__ConnectionString"] = db.Postgres!;
        }
        var shortClip = Path.Combine(root, "dog-320x180.mp4");
        TestData.Ffmpeg("-i", TestData.Clip("01_dog.mp4"), "-t", "1.5", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", shortClip);
        var taskClip = Path.Combine(root, "dog-320x180-8s.mp4");
        TestData.Ffmpeg("-i", TestData.Clip("01_dog.mp4"), "-t", "8", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", taskClip);

        // All start at once on an empty database: the migrations are applied once, under EF Core's migration lock.
        var processes = await Task.WhenAll(roles.Select((role, i) => ServerProcess.StartAsync(dataDir, Path.Combine(root, $"{i}-{role}.log"),
            new Dictionary<string, string>(settings) { ["Roto__Role"] = role })));
        try
        {
            var apis = processes.Where((_, i) => roles[i] != "worker").ToList();
            var workers = processes.Where((_, i) => roles[i] != "api").ToList();
            var clients = apis.Select(p => p.Client()).ToList();
            HttpClient Via(int i) => clients[i % clients.Count];

            // Workers answer nothing but /health.
            foreach (var w in processes.Where((_, i) => roles[i] == "worker"))
            {
                using var c = w.Client();
                Assert.Equal(404, (int)(await c.GetAsync($"{Api.B}/unknown")).StatusCode);
            }

            // A session opened through one API process and clicked through both at once: every click is kept.
            var sid = await Api.InitAsync(Via(1), await Api.UploadAsync(Via(0), shortClip));
            var points = Enumerable.Range(0, 8).Select(i => new { x = 0.3 + 0.05 * i, y = 0.6 }).ToList();
            await Task.WhenAll(points.Select((p, i) => Api.PostAsync(Via(i), $"{Api.B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { p } })));
            // A preview made by one process is served by the other (shared files, one URL-signing key).
            var preview = (await Api.PreviewAsync(Via(0), sid))["res"]!;
            await Api.DownloadHashAsync(Via(1), preview["video"]!.GetValue<string>());
            // No click lost: all are stored, and the stored mask is the one all of them make (segmenting them again
            // through the other process reproduces it).
            Assert.Equal(points.Count, db.Points(sid));
            var mask = db.Mask(sid);
            await Api.PostAsync(Via(1), $"{Api.B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { points[0] } });
            Assert.Equal(mask, db.Mask(sid));

            // Tasks asked for at once through both API processes: the account's limit holds.
            var taskSession = await Api.InitAsync(Via(0), await Api.UploadAsync(Via(1), taskClip));
            await Api.SelectAsync(Via(1), taskSession);
            var asks = await Task.WhenAll(Enumerable.Range(0, 2 * TaskLimit).Select(async i =>
            {
                using var response = await Via(i).PostAsJsonAsync(Api.B, new
                {
                    session_id = taskSession, edit_mode = "removal", prompt = "Delete the dog from <<<video_1>>>", callback_url = hooks.Url,
                });
                return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            }));
            var taskIds = asks.Where(a => a["code"]!.GetValue<int>() == 0).Select(a => a["data"]!["task_id"]!.GetValue<string>()).ToList();
            Assert.Equal(TaskLimit, taskIds.Count);
            Assert.All(asks.Where(a => a["code"]!.GetValue<int>() != 0), a => Assert.Equal(1303, a["code"]!.GetValue<int>()));

            // SIGKILL to the worker in the middle of a task.
            var (killedTask, owner) = await db.UntilAsync(() => db.TaskMidRun(), "a task to be under way");
            var victim = workers.Single(w => owner.Split('/')[1] == w.Pid.ToString());
            victim.Kill9();
            output.WriteLine($"killed {owner} during task {killedTask}");
            var survivors = clients.Where((_, i) => !apis[i].HasExited).ToList();

            foreach (var id in taskIds)
            {
                var task = await Api.WaitForTaskAsync(survivors[0], id, TimeSpan.FromMinutes(4));
                var status = task["task_status"]!.GetValue<string>();
                output.WriteLine($"{id}: {status} {task["task_status_msg"]}");
                Assert.Equal("succeed", status);
                // The same result through every API process, from exactly one completed run.
                var hashes = new HashSet<string>();
                foreach (var c in survivors) hashes.Add(await Api.DownloadHashAsync(c, Api.ResultUrl(task)));
                Assert.Single(hashes);
                Assert.Equal(1, db.ResultFiles(id));
            }
            Assert.Equal(2, db.Attempts(killedTask));
            var logs = string.Join('\n', Directory.GetFiles(root, "*.log").Select(File.ReadAllText));
            foreach (var id in taskIds) Assert.Equal(1, CountOf(logs, $"Task {id} succeeded"));
            Assert.DoesNotContain("lease was lost", logs);

            // Every status of every task reaches the receiver once by its webhook-id, in order; the first try of each was
            // refused and retried under the same webhook-id.
            await db.UntilAsync(() => db.UndeliveredCallbacks() == 0 ? true : (bool?)null, "every callback to be delivered");
            var got = hooks.Received;
            // A send that failed in transport (no HTTP status came back) may have reached the receiver all the same, so it
            // is sent again under the same webhook-id; the sender logs each such failure by its webhook-id.
            var transportFailed = Regex.Matches(string.Join('\n', Directory.GetFiles(root, "*.log").Select(File.ReadAllText)),
                    @"Callback (msg_[0-9a-f]+) for task \d+ failed \((?!HTTP )").Select(m => m.Groups[1].Value).ToHashSet();
            var repeats = 0;
            foreach (var id in taskIds)
            {
                var mine = got.Where(r => r.TaskId == id).ToList();
                var delivered = mine.Where(r => r.Answer == 200).ToList();
                // Delivery is at least once: a process killed between the receiver's 200 and recording it leaves that
                // callback to be sent again under the same webhook-id, by which receivers drop it. The killed process
                // sent one callback at a time, so the whole run has at most one such repeat besides those that follow a
                // logged transport failure, of the same status.
                var byWebhookId = delivered.GroupBy(r => r.WebhookId).ToList();
                Assert.All(byWebhookId, g => Assert.Single(g.Select(r => r.Status).Distinct()));
                repeats += byWebhookId.Where(g => !transportFailed.Contains(g.Key)).Sum(g => g.Count() - 1);
                Assert.All(mine.Where(r => r.Answer != 200), refused => Assert.Contains(delivered, d => d.WebhookId == refused.WebhookId));
                var statuses = byWebhookId.Select(g => g.First().Status).ToList();
                var expected = id == killedTask ? new[] { "submitted", "processing", "processing", "succeed" } : ["submitted", "processing", "succeed"];
                Assert.Equal(expected, statuses);
            }
            Assert.InRange(repeats, 0, 1);
        }
        catch
        {
            // The servers' own account of what went wrong, before their folder goes.
            foreach (var log in Directory.GetFiles(root, "*.log"))
                foreach (var line in File.ReadLines(log).Where(l => l.Contains("\"Error\"") || l.Contains("\"Warning\"") || l.Contains("Sweep")).TakeLast(20))
                    output.WriteLine($"{Path.GetFileName(log)}: {line}");
            throw;
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }
        }
    }

    private static int CountOf(string text, string what)
    {
        var n = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Reads the shared database the way an operator would, whichever provider holds it.</summary>
    private sealed class ClusterDb(string? postgres, string dataDir)
    {
        public string? Postgres => postgres;

        /// <summary>A task whose worker has saved some progress and is not near the end, with its owner.</summary>
        public (string Id, string Owner)? TaskMidRun() =>
            Query("""SELECT "Id", "LeaseOwner" FROM "Tasks" WHERE "Status" = 'processing' AND "Progress" BETWEEN 1 AND 80 AND "LeaseOwner" IS NOT NULL""",
                r => (r.GetString(0), r.GetString(1))).Cast<(string, string)?>().FirstOrDefault();

        public int Attempts(string taskId) => Query("""SELECT "Attempts" FROM "Tasks" WHERE "Id" = @id""", r => r.GetInt32(0), taskId).Single();

        public int ResultFiles(string taskId) => Query("""SELECT "Key" FROM "Files" WHERE "OwnerId" = @id AND "Kind" = 'result'""", r => r.GetString(0), taskId).Count;

        public int Points(string sessionId) => Query("""SELECT "Id" FROM "Points" WHERE "SessionId" = @id""", r => 0, sessionId).Count;

        public string Mask(string sessionId) =>
            Query("""SELECT "Counts" FROM "FrameMasks" WHERE "SessionId" = @id AND "FrameIndex" = 0""", r => r.GetString(0), sessionId).Single();

        public int UndeliveredCallbacks() => Query("""SELECT "Id" FROM "Callbacks" WHERE "State" <> 'delivered'""", r => 0).Count;

        public async Task<T> UntilAsync<T>(Func<T?> probe, string what) where T : struct
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (true)
            {
                if (probe() is { } found) return found;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited in vain for {what}");
                await Task.Delay(25);
            }
        }

        private List<T> Query<T>(string sql, Func<DbDataReader, T> read, string? id = null)
        {
            using DbConnection connection = postgres != null
                ? new NpgsqlConnection(postgres)
                : new SqliteConnection($"Data Source={Path.Combine(dataDir, "roto.db")};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            if (id != null)
            {
                var p = cmd.CreateParameter();
                p.ParameterName = "id";
                p.Value = id;
                cmd.Parameters.Add(p);
            }
            using var reader = cmd.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read()) rows.Add(read(reader));
            return rows;
        }
    }

    /// <summary>Takes callbacks, refusing the first try of each webhook-id with a 500 so that every one is retried once.</summary>
    private sealed class CallbackReceiver : IDisposable
    {
        public sealed record Delivery(string WebhookId, string TaskId, string Status, int Answer);

        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<Delivery> _received = new();
        private readonly ConcurrentDictionary<string, bool> _seen = new();

        public CallbackReceiver()
        {
            var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/hook";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public string Url { get; }
        public List<Delivery> Received => _received.ToList();

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
                var id = ctx.Request.Headers["webhook-id"] ?? "";
                var answer = _seen.TryAdd(id, true) ? 500 : 200;
                _received.Enqueue(new Delivery(id, body["task_id"]!.GetValue<string>(), body["task_status"]!.GetValue<string>(), answer));
                ctx.Response.StatusCode = answer;
                ctx.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }
}
