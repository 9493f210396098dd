using Microsoft.Playwright;

namespace VideoCallbacks.Tests.Dashboard;

/// <summary>One browser tab on the service's dashboard, in its own context (its own cookies), recording the console.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private DashboardPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, m) => { lock (Console) Console.Add($"{m.Type}: {m.Text}"); };
        page.PageError += (_, e) => { lock (Console) Console.Add("pageerror: " + e); };
    }

    public IPage Page { get; }

    /// <summary>Everything the page wrote to the console (CSP violations are reported there).</summary>
    public List<string> Console { get; } = [];

    public IBrowserContext Context => _context;

    public static async Task<DashboardPage> OpenAsync(Chromium chromium, Uri baseUrl, IEnumerable<Microsoft.Playwright.Cookie>? cookies = null)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl.ToString().TrimEnd('/'), ViewportSize = new() { Width = 1280, Height = 900 } });
        if (cookies is not null) await context.AddCookiesAsync(cookies);
        return new DashboardPage(context, await context.NewPageAsync());
    }

    public async Task SignInAsync(string key)
    {
        await Page.GotoAsync("/admin");
        await Page.GetByLabel("Admin API key").FillAsync(key);
        await SubmitAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }));
    }

    /// <summary>Clicks something that loads a page (a form's button, a link) and waits for that page, not the one before it.</summary>
    public Task SubmitAsync(ILocator target) => LoadsPageAsync(() => target.ClickAsync());

    /// <summary>
    /// Runs an action that loads a new document and waits until that document is there: the old one is marked first,
    /// so a page read right after never sees the page before. (Playwright's RunAndWaitForNavigationAsync is obsolete.)
    /// </summary>
    public async Task LoadsPageAsync(Func<Task> action)
    {
        await Page.EvaluateAsync("() => { window.__vcOld = true; }");
        await action();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                // A new document, parsed: checked in the page itself, since Playwright's load-state waiter once waited
                // 30 s for a DOMContentLoaded that had already fired.
                if (await Page.EvaluateAsync<bool>("() => window.__vcOld !== true && document.readyState !== 'loading'")) break;
            }
            catch (PlaywrightException)
            {
                // The old document's context went away mid-call: the new one is on its way.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no new page loaded within 30 s (still at {Page.Url})");
            await Task.Delay(20);
        }
    }

    public Task<string> MainTextAsync() => Page.Locator("main").InnerTextAsync();

    /// <summary>Saves the page as <c>screenshots/{name}.png</c> beside the test assembly.</summary>
    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotFolder, name + ".png"), FullPage = true });

    public IReadOnlyList<string> CspViolations()
    {
        lock (Console) return Console.Where(c => c.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)).ToList();
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
