using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Roto.Crash.Tests;

/// <summary>The few wire calls the crash scenarios make, each checking the envelope it gets back.</summary>
public static class Api
{
    public const string B = "v1/videos/multi-elements";

    public static async Task<JsonNode> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonNode.Parse(text)!;
        Assert.True((int)response.StatusCode == 200 && body["code"]!.GetValue<int>() == 0, $"expected success, got HTTP {(int)response.StatusCode}: {text}");
        return body["data"]!;
    }

    public static async Task<JsonNode> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        return await OkAsync(response);
    }

    public static async Task<string> UploadAsync(HttpClient client, string file)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(file)), "file", Path.GetFileName(file));
        using var response = await client.PostAsync("v1/uploads", form);
        return (await OkAsync(response))["url"]!.GetValue<string>();
    }

    public static async Task<string> InitAsync(HttpClient client, string videoUrl) =>
        (await PostAsync(client, $"{B}/init-selection", new { video_url = videoUrl }))["session_id"]!.GetValue<string>();

    public static Task<JsonNode> SelectAsync(HttpClient client, string sessionId) =>
        PostAsync(client, $"{B}/add-selection", new { session_id = sessionId, frame_index = 0, points = new[] { new { x = 0.49, y = 0.64 } } });

    public static Task<JsonNode> PreviewAsync(HttpClient client, string sessionId) =>
        PostAsync(client, $"{B}/preview-selection", new { session_id = sessionId });

    public static async Task<string> RemoveAsync(HttpClient client, string sessionId) =>
        (await PostAsync(client, B, new { session_id = sessionId, edit_mode = "removal", prompt = "Delete the dog from <<<video_1>>>" }))["task_id"]!.GetValue<string>();

    public static async Task<JsonNode> TaskAsync(HttpClient client, string taskId)
    {
        using var response = await client.GetAsync($"{B}/{taskId}");
        return await OkAsync(response);
    }

    public static async Task<JsonNode> WaitForTaskAsync(HttpClient client, string taskId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var data = await TaskAsync(client, taskId);
            var status = data["task_status"]!.GetValue<string>();
            if (status is "succeed" or "failed") return data;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"task {taskId} is still {status} after {timeout.TotalSeconds:0} s");
            await Task.Delay(250);
        }
    }

    public static string ResultUrl(JsonNode task) => task["task_result"]!["videos"]![0]!["url"]!.GetValue<string>();

    /// <summary>SHA-256 of a file URL the server handed out, fetched through the same client.</summary>
    public static async Task<string> DownloadHashAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(new Uri(url).PathAndQuery.TrimStart('/'));
        Assert.Equal(200, (int)response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length > 1000, $"{url} served only {bytes.Length} bytes");
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
