using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Roto.Core.Callbacks;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>Tasks survive restarts, respect the concurrency limit and call back with signed payloads.</summary>
public sealed class TaskLifecycleTests
{
    private const string B = "/v1/videos/multi-elements";

    private static async Task<string> SelectedSessionAsync(HttpClient client)
    {
        var sid = (await Wire.InitAsync(client, Videos.Short720))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        return sid;
    }

    /// <summary>
    /// Queues a removal with no worker running, then leaves the row as a kill -9 mid-task would: "processing" with
    /// <paramref name="attempts"/> attempts, and nobody working on it.
    /// </summary>
    private static async Task<(string DataDir, string TaskId)> TaskLeftProcessingAsync(int attempts)
    {
        string dataDir, taskId;
        using (var first = new RotoApp(new() { ["Roto:Workers"] = "0" }))
        {
            dataDir = first.DataDir;
            using var client = first.Client();
            var sid = await SelectedSessionAsync(client);
            taskId = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Ok().Data["task_id"]!.GetValue<string>();
        }
        await using var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "roto.db")};Pooling=False");
        await db.OpenAsync();
        var cmd = db.CreateCommand();
        cmd.CommandText = "UPDATE Tasks SET Status='processing', Attempts=$attempts WHERE Id=$id";
        cmd.Parameters.AddWithValue("$id", taskId);
        cmd.Parameters.AddWithValue("$attempts", attempts);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        return (dataDir, taskId);
    }

    [Fact]
    public async Task A_task_left_processing_by_a_dead_process_finishes_after_restart()
    {
        var (dataDir, taskId) = await TaskLeftProcessingAsync(attempts: 1);
        using var second = new RotoApp(dataDir: dataDir);
        using var client = second.Client();
        var done = await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(5));
        Assert.Equal("succeed", done["task_status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_task_interrupted_too_often_fails_with_a_reason()
    {
        var (dataDir, taskId) = await TaskLeftProcessingAsync(attempts: 3);
        using var second = new RotoApp(dataDir: dataDir);
        using var client = second.Client();
        var done = await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(1));
        Assert.Equal("failed", done["task_status"]!.GetValue<string>());
        Assert.Contains("interrupted", done["task_status_msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Over_the_concurrency_limit_is_429_1303()
    {
        using var app = new RotoApp(new() { ["Roto:Limits:MaxConcurrentTasks"] = "1", ["Roto:Workers"] = "0" });
        using var client = app.Client();
        var sid = await SelectedSessionAsync(client);
        (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Ok();
        (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Error(429, 1303);
        // Another account has its own limit.
        using var other = app.Client(RotoApp.KeyB);
        var sidB = await SelectedSessionAsync(other);
        (await Wire.PostAsync(other, B, new { session_id = sidB, edit_mode = "removal", prompt = "x" })).Ok();
    }

    [Fact]
    public async Task Over_the_rate_limit_is_429_1302()
    {
        using var app = new RotoApp(new() { ["Roto:Limits:RequestsPerMinute"] = "3" });
        using var client = app.Client();
        for (var i = 0; i < 3; i++) (await Wire.GetAsync(client, B)).Ok();
        (await Wire.GetAsync(client, B)).Error(429, 1302);
        using var other = app.Client(RotoApp.KeyB);
        (await Wire.GetAsync(other, B)).Ok();
    }

    [Fact]
    public async Task Callbacks_report_every_status_signed_and_retried_with_the_same_webhook_id()
    {
        const string secret = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=";
        using var receiver = new HttpListener();
        var port = FreePort();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var received = new List<(string Id, string Timestamp, string Signature, string Body, int Answer)>();
        var failFirst = true;
        var loop = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await receiver.GetContextAsync(); } catch { return; }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var answer = failFirst ? 500 : 200;
                failFirst = false;
                lock (received) received.Add((ctx.Request.Headers["webhook-id"]!, ctx.Request.Headers["webhook-timestamp"]!, ctx.Request.Headers["webhook-signature"]!, body, answer));
                ctx.Response.StatusCode = answer;
                ctx.Response.Close();
            }
        });

        using var app = new RotoApp(new()
        {
            ["Roto:AllowPrivateNetworks"] = "true",
            ["Roto:WebhookSecret"] = secret,
            ["Roto:Callbacks:FirstRetryDelay"] = "00:00:00.200",
        });
        using var client = app.Client();
        var sid = await SelectedSessionAsync(client);
        var taskId = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x", callback_url = $"http://127.0.0.1:{port}/hook" })).Ok().Data["task_id"]!.GetValue<string>();
        await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(3));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            lock (received) if (received.Count(r => r.Answer == 200) >= 3) break;
            await Task.Delay(200);
        }
        receiver.Stop();
        List<(string Id, string Timestamp, string Signature, string Body, int Answer)> got;
        lock (received) got = received.ToList();

        var delivered = got.Where(r => r.Answer == 200).Select(r => JsonNode.Parse(r.Body)!["task_status"]!.GetValue<string>()).ToList();
        Assert.Equal(["submitted", "processing", "succeed"], delivered);
        // The first attempt failed with 500 and was retried with the same webhook-id.
        Assert.Equal(got[0].Id, got[1].Id);
        foreach (var r in got)
        {
            Assert.Equal(WebhookSigner.Sign(secret, r.Id, long.Parse(r.Timestamp), r.Body), r.Signature);
            Assert.Equal(taskId, JsonNode.Parse(r.Body)!["task_id"]!.GetValue<string>());
        }
        var last = JsonNode.Parse(got[^1].Body)!;
        Assert.NotNull(last["task_result"]!["videos"]![0]!["url"]);
    }

    [Fact]
    public void Webhook_signature_matches_the_official_test_vector() =>
        Assert.Equal("v1,UsKlJP00XoQyOn410NM9xv34sP+Gl0jnOO9Lcpr7NJ4=", WebhookSigner.Sign(
            "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=", "9876543210", 1781080794,
            "{\"id\":\"1234567890\",\"status\":\"succeeded\",\"message\":\"\",\"create_time\":1781080778802,\"update_time\":1781080794151}"));

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
