using System.Net;
using System.Text;
using Roto.Client.Http;

namespace Roto.Client.Tests;

/// <summary>
/// Retry decisions for answers Roto itself never gives (Kling's maintenance and account codes, proxies' pages,
/// dropped connections). Roto's own 429/1303 is tested against the real server.
/// </summary>
public class RetryPipelineTests
{
    private static readonly RotoRetryOptions Fast = new() { MaxRetryAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) };

    [Theory]
    [InlineData(503, 5001)]
    [InlineData(504, 5002)]
    [InlineData(429, 1302)]
    public async Task Retry_later_codes_are_retried_until_success(int status, int code)
    {
        var answers = new Queue<HttpResponseMessage>([Error(status, code), Error(status, code), Success()]);
        var (client, handler) = Client(_ => answers.Dequeue());

        var task = await client.GetTaskAsync("42");

        Assert.Equal("42", task.TaskId);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Theory]
    [InlineData(429, 1102)]
    [InlineData(429, 1304)]
    [InlineData(400, 1201)]
    [InlineData(500, 5000)]
    public async Task Codes_that_waiting_does_not_fix_fail_at_once(int status, int code)
    {
        var (client, handler) = Client(_ => Error(status, code));

        var error = await Assert.ThrowsAsync<RotoApiException>(() => client.GetTaskAsync("42"));

        Assert.Equal((code, (HttpStatusCode)status, "req-1"), (error.Code, error.HttpStatus, error.RequestId));
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_proxy_error_page_is_retried_then_reported_without_an_envelope()
    {
        var (client, handler) = Client(_ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>bad gateway</html>", Encoding.UTF8, "text/html") });

        var error = await Assert.ThrowsAsync<RotoApiException>(() => client.ListTasksAsync());

        Assert.Equal(RotoApiException.NoEnvelopeCode, error.Code);
        Assert.Contains("bad gateway", error.ServerMessage);
        Assert.Equal(1 + Fast.MaxRetryAttempts, handler.Requests.Count);
    }

    [Fact]
    public async Task Network_faults_are_retried_for_queries_but_never_for_task_creation()
    {
        var failures = 0;
        var (client, handler) = Client(request =>
            request.Method == HttpMethod.Get && ++failures > 2 ? Success() : throw new HttpRequestException("connection reset"));

        var task = await client.GetTaskAsync("42");
        handler.Requests.Clear();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.CreateTaskAsync(new CreateTaskRequest { SessionId = "1", EditMode = EditModes.Removal, Prompt = "p" }));

        Assert.Equal("42", task.TaskId);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Retry_after_from_the_server_sets_the_delay_and_is_reported()
    {
        var notices = new List<RetryNotice>();
        var options = new RotoClientOptions { BaseUrl = new Uri("https://api.example"), ApiKey = "k", Retry = new RotoRetryOptions { MaxRetryAttempts = 2, MaxDelay = TimeSpan.FromSeconds(5), OnRetry = notices.Add } };
        var answers = new Queue<HttpResponseMessage>([Error(429, 1303, retryAfter: TimeSpan.FromMilliseconds(1000)), Success()]);
        using var client = RotoClient.Create(options, new FuncHandler(_ => answers.Dequeue()));

        await client.GetTaskAsync("42");

        var notice = Assert.Single(notices);
        Assert.Equal((1, 1303, 429, TimeSpan.FromSeconds(1)), (notice.Attempt, notice.Code, notice.HttpStatus, notice.Delay));
    }

    [Fact]
    public async Task A_refused_connection_fails_at_once_until_the_server_has_answered_then_is_retried()
    {
        var script = new Queue<Func<HttpResponseMessage>>([Refused, Success, Refused, Refused, Success]);
        var (client, handler) = Client(_ => script.Dequeue()());

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetTaskAsync("42"));
        var requestsWhileNobodyAnswered = handler.Requests.Count;
        await client.GetTaskAsync("42");
        var afterRestart = await client.GetTaskAsync("42");

        Assert.Equal(1, requestsWhileNobodyAnswered);
        Assert.Equal("42", afterRestart.TaskId);
        Assert.Empty(script);
    }

    private static HttpResponseMessage Refused() => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused",
        new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));

    [Fact]
    public async Task Credentials_go_to_the_api_host_only()
    {
        var (client, handler) = Client(request => request.RequestUri!.Host == "cdn.example"
            ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([1, 2, 3]) }
            : Success());

        await client.GetTaskAsync("42");
        using var sink = new MemoryStream();
        var bytes = await client.DownloadAsync("https://cdn.example/out.mp4", sink);

        Assert.Equal("Bearer secret-key", handler.Requests[0].Headers.Authorization!.ToString());
        Assert.Null(handler.Requests[1].Headers.Authorization);
        Assert.Equal(3, bytes);
    }

    private static (RotoClient, FuncHandler) Client(Func<HttpRequestMessage, HttpResponseMessage> respond)
    {
        var handler = new FuncHandler(respond);
        var options = new RotoClientOptions { BaseUrl = new Uri("https://api.example"), ApiKey = "secret-key", Retry = Fast };
        return (RotoClient.Create(options, handler), handler);
    }

    private static HttpResponseMessage Success() => new(HttpStatusCode.OK)
    {
        Content = new StringContent("""{"code":0,"message":"SUCCEED","request_id":"req-0","data":{"task_id":"42","task_status":"processing"}}""", Encoding.UTF8, "application/json"),
    };

    private static HttpResponseMessage Error(int status, int code, TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status)
        {
            Content = new StringContent($$"""{"code":{{code}},"message":"code {{code}}","request_id":"req-1"}""", Encoding.UTF8, "application/json"),
        };
        if (retryAfter is { } delay) response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        return response;
    }
}
