using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Roto.Core.Net;

namespace Roto.Server.Tests;

/// <summary>
/// Thousands of malformed requests across every endpoint: no 5xx, and every body is the Kling envelope.
/// Names resolve to loopback only (and are refused), so nothing leaves the machine.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private sealed class LoopbackResolver : IHostResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Task.FromResult(new[] { IPAddress.Loopback });
    }

    private static readonly string[] Paths =
    [
        "/v1/videos/multi-elements/init-selection", "/v1/videos/multi-elements/add-selection", "/v1/videos/multi-elements/delete-selection",
        "/v1/videos/multi-elements/clear-selection", "/v1/videos/multi-elements/preview-selection", "/v1/videos/multi-elements",
        "/kling/v1/videos/multi-elements/add-selection", "/kling/v1/videos/multi-elements", "/v1/videos/multi-elements/123",
        "/v1/uploads", "/v1/videos/multi-elements?pageNum=x", "/v1/nothing", "/files/x/../../roto.db", "/files/a?exp=1&sig=2",
    ];

    private static readonly string[] Fields =
    [
        "session_id", "frame_index", "points", "video_url", "video_id", "edit_mode", "prompt", "image_list", "object_id",
        "duration", "cfg_scale", "camera_control", "watermark_info", "callback_url", "external_task_id", "placement", "model_name",
    ];

    private readonly RotoApp _app = new(services: s => s.Replace(ServiceDescriptor.Singleton<IHostResolver, LoopbackResolver>()));

    private static readonly Gen<JsonNode?> Scalar = Gen.OneOf<JsonNode?>(
        Gen.Const<JsonNode?>(() => null),
        Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.Double.Select(d => double.IsFinite(d) ? (JsonNode?)JsonValue.Create(d) : JsonValue.Create(0)),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.String.Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.OneOf("", "removal", "swap", "http://127.0.0.1/x.mp4", "http://[::1]/a", "123456789012345678", "-1", "1e400")
            .Select(s => (JsonNode?)JsonValue.Create(s)));

    private static readonly Gen<JsonNode?> Value = Gen.Recursive<JsonNode?>((depth, self) => depth > 2
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, self.List[0, 4].Select(items => (JsonNode?)new JsonArray(items.Select(i => i?.DeepClone()).ToArray()))),
            (1, Gen.Select(Gen.OneOf(Fields).Array[0, 4], self.Array[4], (names, values) =>
            {
                var o = new JsonObject();
                for (var i = 0; i < names.Length; i++) o[names[i]] = values[i]?.DeepClone();
                return (JsonNode?)o;
            }))));

    private static readonly Gen<string> Body = Gen.Frequency(
        (6, Gen.Select(Gen.OneOf(Fields).Array[0, 6], Value.Array[6], (names, values) =>
        {
            var o = new JsonObject();
            for (var i = 0; i < names.Length; i++) o[names[i]] = values[i]?.DeepClone();
            return o.ToJsonString();
        })),
        (2, Value.Select(v => v?.ToJsonString() ?? "null")),
        (2, Gen.String),
        (1, Gen.Byte.Array[0, 64].Select(b => Encoding.Latin1.GetString(b))));

    [Fact]
    public async Task Five_thousand_malformed_requests_get_envelopes_and_no_5xx()
    {
        using var client = _app.Client();
        var methods = new[] { HttpMethod.Post, HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch };
        var count = 0;
        await Gen.Select(Gen.OneOf(Paths), Gen.OneOf(methods), Body, Gen.OneOf("application/json", "text/plain", "multipart/form-data; boundary=x", ""))
            .SampleAsync(async (path, method, body, contentType) =>
            {
                using var request = new HttpRequestMessage(method, path);
                if (method != HttpMethod.Get)
                {
                    request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
                    if (contentType != "") request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                }
                using var response = await client.SendAsync(request);
                Interlocked.Increment(ref count);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                Assert.True(status < 500, $"{method} {path} answered {status}: {text}");
                var json = JsonNode.Parse(text);
                Assert.True(json?["code"] != null && json["message"] != null && json["request_id"] != null, $"{method} {path}: not an envelope: {text}");
                Assert.Equal(status == 200, json!["code"]!.GetValue<int>() == 0);
            }, iter: 5000, threads: 1);
        Assert.Equal(5000, count);
    }

    public void Dispose() => _app.Dispose();
}
