using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Roto.Server.Tests;

/// <summary>API keys, Kling JWTs and account isolation.</summary>
public sealed class AuthTests(AuthTests.App app) : IClassFixture<AuthTests.App>
{
    public sealed class App : IDisposable
    {
        public RotoApp Roto { get; } = new();
        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";
    private readonly RotoApp _app = app.Roto;

    public static string Jwt(object payload, string secret = RotoApp.SecretKey, string alg = "HS256")
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var head = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg, typ = "JWT" }));
        var body = B64(JsonSerializer.SerializeToUtf8Bytes(payload));
        var sig = B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes($"{head}.{body}")));
        return $"{head}.{body}.{sig}";
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private async Task<Wire.Reply> ListWith(string? authorization)
    {
        using var client = _app.CreateClient();
        if (authorization != null) client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        return await Wire.GetAsync(client, B);
    }

    [Fact] public async Task No_header_is_401_1001() => (await ListWith(null)).Error(401, 1001);
    [Fact] public async Task Empty_bearer_is_401_1001() => (await ListWith("Bearer ")).Error(401, 1001);
    [Fact] public async Task Unknown_key_is_401_1002() => (await ListWith("Bearer nope")).Error(401, 1002);
    [Fact] public async Task Configured_key_works() => (await ListWith($"Bearer {RotoApp.KeyA}")).Ok();

    [Fact]
    public async Task Kling_jwt_with_extra_claims_works() =>
        (await ListWith("Bearer " + Jwt(new { iss = RotoApp.AccessKey, exp = Now + 1800, nbf = Now - 5, iat = Now }))).Ok();

    [Fact]
    public async Task Jwt_with_a_bad_signature_is_1002() =>
        (await ListWith("Bearer " + Jwt(new { iss = RotoApp.AccessKey, exp = Now + 1800, nbf = Now - 5 }, secret: "wrong"))).Error(401, 1002);

    [Fact]
    public async Task Jwt_of_an_unknown_access_key_is_1002() =>
        (await ListWith("Bearer " + Jwt(new { iss = "someone-else", exp = Now + 1800, nbf = Now - 5 }))).Error(401, 1002);

    [Fact]
    public async Task Jwt_signed_with_another_algorithm_is_1002() =>
        (await ListWith("Bearer " + Jwt(new { iss = RotoApp.AccessKey, exp = Now + 1800 }, alg: "none"))).Error(401, 1002);

    [Fact]
    public async Task Expired_jwt_is_1004() =>
        (await ListWith("Bearer " + Jwt(new { iss = RotoApp.AccessKey, exp = Now - 60, nbf = Now - 1000 }))).Error(401, 1004);

    [Fact]
    public async Task Jwt_not_yet_valid_is_1003() =>
        (await ListWith("Bearer " + Jwt(new { iss = RotoApp.AccessKey, exp = Now + 1800, nbf = Now + 600 }))).Error(401, 1003);

    [Fact]
    public async Task A_few_seconds_of_clock_skew_are_forgiven() =>
        (await ListWith("Bearer " + Jwt(new { iss = RotoApp.AccessKey, exp = Now + 1800, nbf = Now + 2 }))).Ok();

    [Fact]
    public async Task Another_account_sees_none_of_my_sessions_uploads_or_tasks()
    {
        using var a = _app.Client(RotoApp.KeyA);
        using var b = _app.Client(RotoApp.KeyB);
        using var jwt = _app.CreateClient();
        jwt.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Jwt(new { iss = RotoApp.AccessKey, exp = Now + 1800, nbf = Now - 5 }));

        var upload = (await Wire.UploadAsync(a, Videos.Short720)).Ok().Data["url"]!.GetValue<string>();
        (await Wire.PostAsync(b, $"{B}/init-selection", new { video_url = upload })).Error(404, 1203);

        var sid = (await Wire.PostAsync(a, $"{B}/init-selection", new { video_url = upload })).Ok().Data["session_id"]!.GetValue<string>();
        (await Wire.PostAsync(a, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Ok();
        foreach (var other in new[] { b, jwt })
        {
            (await Wire.PostAsync(other, $"{B}/add-selection", new { session_id = sid, frame_index = 0, points = new[] { new { x = 0.5, y = 0.5 } } })).Error(404, 1203);
            (await Wire.PostAsync(other, $"{B}/clear-selection", new { session_id = sid })).Error(404, 1203);
            (await Wire.PostAsync(other, B, new { session_id = sid, edit_mode = "removal", prompt = "x" })).Error(404, 1203);
        }

        var task = (await Wire.PostAsync(a, B, new { session_id = sid, edit_mode = "removal", prompt = "x", external_task_id = "mine" })).Ok().Data["task_id"]!.GetValue<string>();
        (await Wire.GetAsync(b, $"{B}/{task}")).Error(404, 1203);
        (await Wire.GetAsync(b, $"{B}/mine")).Error(404, 1203);
        Assert.DoesNotContain((await Wire.GetAsync(b, B)).Ok().Data.AsArray(), t => t!["task_id"]!.GetValue<string>() == task);
        // The same external id is free for another account.
        (await Wire.GetAsync(a, $"{B}/mine")).Ok();
    }
}
