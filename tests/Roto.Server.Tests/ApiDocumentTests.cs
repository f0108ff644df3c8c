using System.Text;
using System.Text.Json.Nodes;

namespace Roto.Server.Tests;

/// <summary>
/// /openapi/v1.json tells the truth about the request bodies, although the endpoints read them themselves, and reading
/// them themselves still takes JSON whatever Content-Type a client sends, or none.
/// </summary>
public sealed class ApiDocumentTests(ApiDocumentTests.App app) : IClassFixture<ApiDocumentTests.App>
{
    public sealed class App : IDisposable
    {
        public RotoApp Roto { get; } = new();
        public void Dispose() => Roto.Dispose();
    }

    private const string B = "/v1/videos/multi-elements";
    private static readonly string[] Ignored = ["model_name", "prompt", "negative_prompt", "mode", "cfg_scale", "aspect_ratio", "camera_control"];

    [Fact]
    public async Task Every_post_operation_documents_its_request_body_with_a_schema()
    {
        var doc = await DocumentAsync();
        var posts = doc["paths"]!.AsObject()
            .Where(p => p.Value!["post"] != null)
            .ToDictionary(p => p.Key, p => p.Value!["post"]!);
        foreach (var prefix in new[] { "/v1", "/kling/v1" })
            foreach (var route in new[] { "init-selection", "add-selection", "delete-selection", "clear-selection", "preview-selection" })
                Assert.Contains($"{prefix}/videos/multi-elements/{route}", posts.Keys);
        Assert.Contains("/v1/videos/multi-elements", posts.Keys);
        Assert.Contains("/v1/uploads", posts.Keys);

        foreach (var (path, post) in posts)
        {
            var content = post["requestBody"]?["content"]?.AsObject();
            Assert.True(content is { Count: > 0 }, $"POST {path} has no request body");
            foreach (var (type, media) in content!)
                Assert.True(Resolve(doc, media?["schema"]) is JsonObject { Count: > 0 }, $"POST {path} ({type}) has no schema");
        }
        Assert.NotNull(posts["/v1/videos/multi-elements/add-selection"]["requestBody"]!["content"]!["application/json"]);
        Assert.NotNull(Resolve(doc, posts["/v1/uploads"]["requestBody"]!["content"]!["multipart/form-data"]!["schema"])!["properties"]!["file"]);
    }

    [Fact]
    public async Task The_init_selection_body_names_video_id_and_video_url()
    {
        var doc = await DocumentAsync();
        var body = Resolve(doc, doc["paths"]![$"{B}/init-selection"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"])!;
        var properties = body["properties"]!.AsObject();
        Assert.NotNull(properties["video_id"]);
        Assert.NotNull(properties["video_url"]);
        Assert.True(properties["task_id"]!["x-roto-ignored"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Fields_roto_ignores_are_marked_in_the_document_and_listed_in_the_readme()
    {
        var doc = await DocumentAsync();
        var body = Resolve(doc, doc["paths"]![B]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"])!;
        var properties = body["properties"]!.AsObject();
        var prompt = properties["prompt"]!;
        Assert.StartsWith("Accepted for compatibility; Roto ignores it.", prompt["description"]!.GetValue<string>());
        Assert.True(prompt["x-roto-ignored"]!.GetValue<bool>());

        var marked = properties.Where(p => p.Value?["x-roto-ignored"]?.GetValue<bool>() == true).Select(p => p.Key).Order().ToArray();
        Assert.Equal(Ignored.Order().ToArray(), marked);
        Assert.Null(properties["session_id"]!["x-roto-ignored"]);
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "README.md"));
        Assert.All(Ignored, field => Assert.Contains($"`{field}`", readme));
    }

    [Fact]
    public async Task A_post_without_a_content_type_or_with_another_one_is_still_read_as_json()
    {
        using var client = app.Roto.Client();
        var url = (await Wire.UploadAsync(client, Videos.Short720)).Ok().Data["url"]!.GetValue<string>();

        var init = await PostRawAsync(client, $"{B}/init-selection", new JsonObject { ["video_url"] = url }.ToJsonString(), contentType: null);
        var sid = init.Ok().Data["session_id"]!.GetValue<string>();
        (await PostRawAsync(client, $"{B}/clear-selection", $"{{\"session_id\":\"{sid}\"}}", "text/plain")).Ok();
        // The body was read, not refused for its type: the answer names the field.
        (await PostRawAsync(client, $"{B}/add-selection", $"{{\"session_id\":\"{sid}\"}}", contentType: null)).Error(400, 1201, "frame_index");
    }

    private static async Task<Wire.Reply> PostRawAsync(HttpClient client, string path, string json, string? contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)) };
        if (contentType != null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        Assert.Equal(contentType == null, request.Content.Headers.ContentType == null);
        using var response = await client.SendAsync(request);
        return await Wire.ReadAsync(response);
    }

    private async Task<JsonNode> DocumentAsync()
    {
        using var client = app.Roto.CreateClient();
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
    }

    /// <summary>A schema, or the component a $ref names.</summary>
    private static JsonNode? Resolve(JsonNode doc, JsonNode? schema)
    {
        if (schema?["$ref"]?.GetValue<string>() is not { } reference) return schema;
        Assert.StartsWith("#/components/schemas/", reference);
        return doc["components"]!["schemas"]![reference["#/components/schemas/".Length..]];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Roto.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("no Roto.slnx above " + AppContext.BaseDirectory);
    }
}
