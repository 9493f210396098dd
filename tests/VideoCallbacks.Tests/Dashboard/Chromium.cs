using Microsoft.Playwright;

namespace VideoCallbacks.Tests.Dashboard;

/// <summary>
/// Headless Chromium from Debian's packages, driven by Microsoft.Playwright (its driver ships in the NuGet package;
/// Playwright never downloads a browser here), provisioned like the kit's other servers.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Where each test's screenshots go (a test artefact beside the test assembly).</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        // Expect's 5 s default is short for a loaded machine; it only bounds waiting, as Wait.Default does.
        Assertions.SetDefaultExpectTimeout(30_000);
        // The kit's one provisioning mechanism, as for PostgreSQL and Redis: use it, install it (root + apt-get), or fail with the command.
        var executable = await Provisioning.EnsureAsync("Chromium", "chromium", "VC_CHROMIUM",
            () => Provisioning.FindFile("chromium", "VC_CHROMIUM", "/usr/bin/chromium"));
        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // This machine's network is closed: without these Chromium keeps trying Google's services at every start.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
