using Microsoft.Playwright;

namespace Roto.Studio.Tests;

/// <summary>One Roto server and one headless Chromium shared by the Studio tests of a class.</summary>
public sealed class StudioFixture : IAsyncLifetime
{
    public StudioServer Server { get; } = new();

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Server.BaseAddress;
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Chromium.LaunchAsync(Playwright);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await Server.DisposeAsync();
    }
}
