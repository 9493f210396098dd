using System.Diagnostics;
using Microsoft.Playwright;

namespace VideoCallbacks.Tests.Dashboard;

/// <summary>
/// Headless Chromium from Debian's packages, driven by Microsoft.Playwright (its driver ships in the NuGet package;
/// Playwright never downloads a browser here). The kit installs the package when it is missing and it may (root with
/// apt-get), or fails with the exact command to run.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";
    public const string InstallCommand = "apt-get install -y --no-install-recommends chromium";

    private static readonly SemaphoreSlim Provisioning = new(1, 1);

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Where each test's screenshots go (a test artefact beside the test assembly).</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        await EnsureInstalledAsync();
        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
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

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists(ExecutablePath)) return;
        await Provisioning.WaitAsync();
        try
        {
            if (File.Exists(ExecutablePath)) return;
            if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
            {
                throw new InvalidOperationException($"The dashboard's browser tests need Debian's Chromium at {ExecutablePath}. Run, as root: {InstallCommand}");
            }
            // A fresh machine may have no package lists yet: install, and on failure refresh them and try once more.
            if (await RunAsync("apt-get", "install -y --no-install-recommends chromium") != 0)
            {
                await RunAsync("apt-get", "update");
                if (await RunAsync("apt-get", "install -y --no-install-recommends chromium") != 0 || !File.Exists(ExecutablePath))
                {
                    throw new InvalidOperationException($"Installing Chromium failed. Run, as root: apt-get update && {InstallCommand}");
                }
            }
        }
        finally
        {
            Provisioning.Release();
        }
    }

    private static async Task<int> RunAsync(string file, string arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await Task.WhenAll(output, error);
        return p.ExitCode;
    }
}
