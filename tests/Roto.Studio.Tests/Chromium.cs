using Microsoft.Playwright;

namespace Roto.Studio.Tests;

/// <summary>Starts the system's headless Chromium (Debian's `chromium` package); Playwright never downloads one.</summary>
public static class Chromium
{
    /// <summary>ROTO_CHROMIUM overrides the path.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("ROTO_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
}
