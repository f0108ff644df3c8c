using Microsoft.Playwright;

namespace Roto.Studio.Tests;

/// <summary>The Studio tests share one server and one browser (each test opens its own browser context).</summary>
[CollectionDefinition(Name)]
public sealed class StudioCollection : ICollectionFixture<StudioFixture>
{
    public const string Name = "studio";
}

/// <summary>One Roto server and one headless Chromium.</summary>
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
