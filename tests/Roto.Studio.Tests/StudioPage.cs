using Microsoft.Playwright;

namespace Roto.Studio.Tests;

/// <summary>
/// A browser tab on the Studio. It records console errors and uncaught exceptions, and makes sure the page runs
/// under the Content-Security-Policy the server is meant to send (added here if the response lacks one), so a page
/// that needs inline code or a CDN fails the test.
/// </summary>
public sealed class StudioPage : IAsyncDisposable
{
    public const string Policy =
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'";

    private readonly IBrowserContext _context;
    private readonly List<string> _problems = [];

    private StudioPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                _problems.Add($"console: {message.Text}");
        };
        page.PageError += (_, error) => _problems.Add($"uncaught: {error}");
    }

    public IPage Page { get; }

    /// <summary>Console errors and uncaught exceptions seen so far (failed HTTP answers are expected in error tests and left out).</summary>
    public IReadOnlyList<string> Problems => _problems;

    public static async Task<StudioPage> OpenAsync(StudioFixture fixture, int width = 1280, int height = 900)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.Server.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        var page = await context.NewPageAsync();
        await page.RouteAsync(fixture.Server.BaseAddress.ToString(), EnforcePolicyAsync);
        var studio = new StudioPage(context, page);
        await page.GotoAsync("/");
        return studio;
    }

    private static async Task EnforcePolicyAsync(IRoute route)
    {
        var response = await route.FetchAsync();
        var headers = new Dictionary<string, string>(response.Headers, StringComparer.OrdinalIgnoreCase);
        headers.TryAdd("Content-Security-Policy", Policy);
        await route.FulfillAsync(new RouteFulfillOptions { Response = response, Headers = headers });
    }

    public async Task EnterKeyAsync(string key)
    {
        await Page.GetByLabel("API key", new() { Exact = true }).FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.File(name), FullPage = true });

    /// <summary>Polls a JS function until it returns true. (Playwright's WaitForFunction evaluates strings, which the CSP forbids.)</summary>
    public async Task WaitUntilAsync(string function, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await Page.EvaluateAsync<bool>(function))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(100);
        }
    }

    public async Task<T> EvaluateAsync<T>(string function, object? arg = null) => await Page.EvaluateAsync<T>(function, arg);

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
