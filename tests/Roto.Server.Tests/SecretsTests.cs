using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Roto.Core.Storage;
using Roto.TestSupport;

namespace Roto.Server.Tests;

/// <summary>
/// Secrets stay secret and files stay inside their folder: no key, secret or token in any log line or in the data
/// directory, no file outside files/ even behind a valid signature, CORS closed unless configured, and the Studio
/// page under a content security policy that its own markup obeys.
/// </summary>
public sealed class SecretsTests(SecretsTests.App app) : IClassFixture<SecretsTests.App>
{
    public const string WebhookSecret = "whsec_c2VjcmV0LXdlYmhvb2sta2V5LW5ldmVyLWxvZ2dlZA==";

    public sealed class App : IDisposable
    {
        public CapturedLogs Logs { get; } = new();
        public RotoApp Roto { get; }
        public string Video { get; } = TestData.MakeVideo(TestData.TempDir("roto-secrets"), "small.mp4", 320, 240, 1.5, "24", audio: false);

        public App() => Roto = new RotoApp(new()
        {
            ["Roto:Limits:Profile"] = "relaxed",
            ["Roto:WebhookSecret"] = WebhookSecret,
            ["Roto:AllowPrivateNetworks"] = "true",
            ["Roto:Callbacks:FirstRetryDelay"] = "00:00:00.100",
            ["Roto:Callbacks:GiveUpAfter"] = "00:00:01",
            // Everything, from every category, goes to the captured logs.
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Trace",
        }, services: Logs.Install);

        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";

    [Fact]
    public async Task No_key_secret_or_token_appears_in_any_log_line_or_in_the_data_directory()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var jwt = AuthTests.Jwt(new { iss = RotoApp.AccessKey, exp = now + 1800, nbf = now - 5 });
        var forgedJwt = AuthTests.Jwt(new { iss = RotoApp.AccessKey, exp = now + 1800, nbf = now - 5 }, secret: "not-the-secret-at-all-0123456789");
        const string wrongKey = "wrong-key-that-must-never-be-logged-7f3a";

        // The whole workflow with an API key, then a JWT, plus failed logins.
        using var client = app.Roto.Client();
        var sid = (await Wire.InitAsync(client, app.Video))["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(client, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        (await Wire.PostAsync(client, $"{B}/preview-selection", new { session_id = sid })).Ok();
        var taskId = (await Wire.PostAsync(client, B, new { session_id = sid, edit_mode = "removal", prompt = "x", callback_url = "http://127.0.0.1:9/hook" }))
            .Ok().Data["task_id"]!.GetValue<string>();
        var done = await Wire.WaitForTaskAsync(client, taskId, TimeSpan.FromMinutes(2));
        await Wire.DownloadAsync(client, done["task_result"]!["videos"]![0]!["url"]!.GetValue<string>());

        using (var jwtClient = app.Roto.CreateClient())
        {
            jwtClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
            (await Wire.GetAsync(jwtClient, B)).Ok();
            jwtClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forgedJwt);
            (await Wire.GetAsync(jwtClient, B)).Error(401, 1002);
            jwtClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", wrongKey);
            (await Wire.GetAsync(jwtClient, B)).Error(401, 1002);
        }
        await WaitForCallbacksToSettleAsync(taskId);

        var signingKey = (await File.ReadAllTextAsync(Path.Combine(app.Roto.DataDir, "url-signing.key"))).Trim();
        string[] secrets =
        [
            RotoApp.KeyA, RotoApp.KeyB, RotoApp.SecretKey, jwt, jwt.Split('.')[2], forgedJwt, wrongKey,
            WebhookSecret, WebhookSecret["whsec_".Length..], signingKey,
        ];
        var entries = app.Logs.Entries;
        Assert.True(entries.Count > 200, $"only {entries.Count} log entries were captured; the check would prove nothing");
        Assert.Contains(entries, e => e.Scopes.Any(s => s.StartsWith("RequestId=")));
        Assert.Contains(entries, e => e.Category.StartsWith("Roto.") && e.Message.Contains(taskId));
        foreach (var secret in secrets)
        {
            var leak = entries.FirstOrDefault(e => e.Text.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak == null, $"a secret appears in a log line: {leak?.Category}: {leak?.Message}");
        }
        Assert.DoesNotContain(entries, e => e.Text.Contains("Bearer", StringComparison.OrdinalIgnoreCase));

        // Keys are held only as hashes and secrets only in configuration: none is written anywhere in the data directory
        // (the running process's empty temp-folder lock cannot be opened while it holds it).
        foreach (var file in Directory.GetFiles(app.Roto.DataDir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("url-signing.key") && Path.GetFileName(f) != ".lock"))
        {
            var bytes = await ReadSharedAsync(file);
            foreach (var secret in secrets.Where(s => s != signingKey))
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a secret");
        }
    }

    [Theory]
    [InlineData("..%2Froto.db")]
    [InlineData("%2e%2e%2froto.db")]
    [InlineData("%2E%2E/roto.db")]
    [InlineData("..%5Croto.db")]
    [InlineData("upload%2F..%2F..%2Froto.db")]
    [InlineData("%252e%252e%252froto.db")]
    [InlineData("..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("....%2F%2Froto.db")]
    public async Task No_encoding_of_dot_dot_reaches_outside_the_files_folder_even_with_a_valid_signature(string encodedKey)
    {
        var files = app.Roto.Services.GetRequiredService<FileStore>();
        using var client = app.Roto.CreateClient();
        var exp = DateTimeOffset.UtcNow.AddHours(1);
        // Whatever the server decodes the key to, one of these signatures is right for it: only the folder check is left.
        foreach (var signedKey in new[] { encodedKey, Uri.UnescapeDataString(encodedKey), Uri.UnescapeDataString(Uri.UnescapeDataString(encodedKey)) }.Distinct())
        {
            var query = files.SignedPath(signedKey, exp).Split('?')[1];
            using var response = await client.GetAsync($"/files/{encodedKey}?{query}");
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{encodedKey} signed as {signedKey}: HTTP {(int)response.StatusCode}");
            Assert.Contains("\"code\":1203", Encoding.UTF8.GetString(body));
            Assert.True(body.AsSpan().IndexOf("SQLite format 3"u8) < 0 && body.AsSpan().IndexOf("root:"u8) < 0, "file contents leaked");
        }
    }

    [Theory]
    [InlineData("../roto.db")]
    [InlineData("upload/../../roto.db")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\roto.db")]
    [InlineData("url-signing.key\0.mp4")]
    [InlineData("upload/x\n.mp4")]
    public void The_file_store_refuses_keys_that_leave_its_folder_or_carry_control_characters(string key)
    {
        // NUL cannot reach the route (ASP.NET Core refuses it in paths), so the store's own check is tested directly.
        var files = app.Roto.Services.GetRequiredService<FileStore>();
        Assert.Equal(1203, Assert.Throws<Roto.Core.KlingError>(() => files.PathOf(key)).Code);
    }

    [Fact]
    public async Task A_key_signed_by_the_server_itself_serves_its_file_so_the_traversal_test_can_tell()
    {
        using var client = app.Roto.Client();
        var url = new Uri((await Wire.UploadAsync(client, app.Video)).Ok().Data["url"]!.GetValue<string>());
        var key = Uri.UnescapeDataString(url.AbsolutePath)[FileStore.UrlPrefix.Length..];
        var files = app.Roto.Services.GetRequiredService<FileStore>();
        using var response = await client.GetAsync(files.SignedPath(key, DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new FileInfo(app.Video).Length, (await response.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Cors_is_closed_by_default()
    {
        using var client = app.Roto.Client();
        using var preflight = await client.SendAsync(Preflight("https://evil.example"));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"), "a preflight from any origin must not be allowed");
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Headers"));

        using var get = new HttpRequestMessage(HttpMethod.Get, B);
        get.Headers.Add("Origin", "https://evil.example");
        using var response = await client.SendAsync(get);
        (await Wire.ReadAsync(response)).Ok();
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), "responses must not be readable cross-origin");
    }

    [Fact]
    public async Task Cors_allows_exactly_the_configured_origins()
    {
        const string studio = "https://studio.example.com";
        using var cors = new RotoApp(new() { ["Roto:CorsOrigins:0"] = studio });
        using var client = cors.Client();

        using (var allowed = await client.SendAsync(Preflight(studio)))
        {
            Assert.True(allowed.IsSuccessStatusCode, $"preflight answered {(int)allowed.StatusCode}");
            Assert.Equal(studio, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("POST", string.Join(',', allowed.Headers.GetValues("Access-Control-Allow-Methods")));
            Assert.Contains("authorization", string.Join(',', allowed.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        }
        using (var refused = await client.SendAsync(Preflight("https://evil.example")))
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

        using var get = new HttpRequestMessage(HttpMethod.Get, B);
        get.Headers.Add("Origin", studio);
        using var response = await client.SendAsync(get);
        (await Wire.ReadAsync(response)).Ok();
        Assert.Equal(studio, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("X-Request-Id", string.Join(',', response.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_studio_page_is_served_under_a_strict_content_security_policy_that_its_markup_obeys()
    {
        using var client = app.Roto.CreateClient();
        using var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var directives = response.Headers.GetValues("Content-Security-Policy").Single()
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d.Split(' ')[1..]);
        Assert.Equal(["'self'"], directives["default-src"]);
        Assert.Equal(["'self'"], directives["script-src"]);
        Assert.Equal(["'self'"], directives["connect-src"]);
        Assert.Equal(["'none'"], directives["frame-ancestors"]);
        Assert.DoesNotContain(directives.Values.SelectMany(v => v), v => v is "'unsafe-inline'" or "'unsafe-eval'" or "*");

        // The page must work under that policy: no inline script or style, every script from this server.
        var html = await response.Content.ReadAsStringAsync();
        var scripts = System.Text.RegularExpressions.Regex.Matches(html, @"<script\b([^>]*)>(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.NotEmpty(scripts);
        foreach (System.Text.RegularExpressions.Match s in scripts)
        {
            Assert.Matches(@"\bsrc=""(?!https?:|//)[^""]+""", s.Groups[1].Value);
            Assert.True(s.Groups[2].Value.Trim().Length == 0, "inline script would be blocked by the policy");
        }
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);
        Assert.DoesNotMatch(@"\sstyle\s*=", html);
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, $"{B}/init-selection");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }

    /// <summary>The callback sender signs with the webhook secret on every attempt: let it finish before reading the logs.</summary>
    private async Task WaitForCallbacksToSettleAsync(string taskId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && app.Logs.Entries.Count(e => e.Message.Contains($"for task {taskId} abandoned")) < 3)
            await Task.Delay(200);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
