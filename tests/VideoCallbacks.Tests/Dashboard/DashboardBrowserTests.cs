using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VideoCallbacks.Tests.Callbacks;
using VideoCallbacks.Tests.Operators;

namespace VideoCallbacks.Tests.Dashboard;

/// <summary>The operators' dashboard in a real headless Chromium, against the real service.</summary>
public sealed class DashboardBrowserTests(Chromium chromium) : IClassFixture<Chromium>
{
    [Fact]
    public async Task An_admin_key_signs_in_and_a_client_key_or_a_wrong_key_gets_the_form_again()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await using var tab = await DashboardPage.OpenAsync(chromium, app.BaseUrl);

        await tab.SignInAsync(TestApp.ClientKey);
        Assert.Contains("That is a client key; the dashboard needs an admin key.", await tab.MainTextAsync(), StringComparison.Ordinal);
        Assert.True(await tab.Page.GetByLabel("Admin API key").IsVisibleAsync());
        Assert.DoesNotContain(TestApp.ClientKey, await tab.Page.ContentAsync(), StringComparison.Ordinal);
        await tab.SignInAsync("not-a-key-at-all-but-long-enough");
        Assert.Contains("That key is not valid.", await tab.MainTextAsync(), StringComparison.Ordinal);
        await tab.ScreenshotAsync("signin-refused");

        await tab.SignInAsync(TestApp.AdminKey);

        Assert.Equal("Overview · VideoCallbacks", await tab.Page.TitleAsync());
        var main = await tab.MainTextAsync();
        Assert.Contains("Readiness", main, StringComparison.Ordinal);
        Assert.Contains("Outbox", main, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.AdminKey, await tab.Page.ContentAsync(), StringComparison.Ordinal);
        var cookie = Assert.Single(await tab.Context.CookiesAsync(), c => c.Name == "vc_dashboard");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.True(cookie.Expires > DateTimeOffset.UtcNow.AddHours(7).ToUnixTimeSeconds());
        Assert.Empty(tab.CspViolations());
        await tab.ScreenshotAsync("overview");

        // One responsive layout: on a phone's width nothing needs sideways scrolling outside the tables.
        await tab.Page.SetViewportSizeAsync(390, 844);
        await tab.Page.ReloadAsync();
        Assert.True(await tab.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await tab.ScreenshotAsync("overview-phone");
    }

    [Fact]
    public async Task A_failed_event_from_a_broker_outage_is_replayed_from_the_page_and_published()
    {
        await using var h = await OperatorHarness.StartAsync(Db.Sqlite, failing: BrokerFault.InternalError);
        var job = await h.SubmitKieAsync("src-dash");
        var failed = await h.WaitUntilSettledAsync(job);
        Assert.All(failed, e => Assert.Equal("failed", e.Status));
        h.Broker.ClearFaults();
        await using var tab = await DashboardPage.OpenAsync(chromium, h.App.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);

        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Link, new() { Name = "Failed events" }));
        var first = failed[0];
        Assert.Contains(first.LastError!, await tab.MainTextAsync(), StringComparison.Ordinal);
        await tab.ScreenshotAsync("failed-events");
        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Button, new() { Name = $"Replay event {first.EventId}" }));

        Assert.Contains($"Event {first.EventId} is pending again", await tab.MainTextAsync(), StringComparison.Ordinal);
        await Wait.UntilAsync(() => h.Api.AdminEventsAsync(), events => events.Single(e => e.EventId == first.EventId).Status == "published",
            "the replayed event to be published");

        // The rest in bulk: the dry run counts first and asks to confirm.
        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Button, new() { Name = "Replay all matching…" }));
        var rest = failed.Count - 1;
        Assert.Contains(rest == 1 ? "1 failed event matches" : $"{rest} failed events match", await tab.MainTextAsync(), StringComparison.Ordinal);
        await tab.ScreenshotAsync("confirm-replay");
        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Button, new() { Name = $"Replay {failed.Count - 1} events" }));
        Assert.Contains($"{failed.Count - 1} events are pending again.", await tab.MainTextAsync(), StringComparison.Ordinal);

        var published = await Wait.UntilAsync(() => h.Api.AdminEventsAsync(), events => events.All(e => e.Status == "published"), "every event to be published");
        Assert.Equal(failed.Select(e => e.EventId).Order(StringComparer.Ordinal), h.EnqueuedIds().Order(StringComparer.Ordinal));
        Assert.Equal(failed.Count, published.Count);
        var actions = (await h.Api.AuditAsync()).Select(a => (a.Action, a.AdminKeyId)).ToList();
        Assert.Contains(("events.replay", OperatorHarness.AdminKeyId), actions);
        Assert.Contains(("events.replay-bulk", OperatorHarness.AdminKeyId), actions);
        Assert.Empty(tab.CspViolations());
    }

    [Fact]
    public async Task A_failed_callback_is_reprocessed_from_the_page_and_the_action_is_audited()
    {
        await using var h = await OperatorHarness.StartAsync(Db.Sqlite);
        var job = await h.SubmitApiframeAsync("p-dash");
        await h.App.Driver.WaitForJobAsync(job, "processing", "completed");
        await h.PostUnreadableCallbackAsync(job);
        await using var tab = await DashboardPage.OpenAsync(chromium, h.App.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);

        await tab.Page.GotoAsync("/admin/callbacks?outcome=failed");
        await tab.ScreenshotAsync("callbacks");
        var reprocess = tab.Page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Reprocess callback ") });
        await tab.SubmitAsync(reprocess.First);

        Assert.Matches(@"Callback \d+ reprocessed: failed\.", await tab.MainTextAsync());
        Assert.Contains(await h.Api.AuditAsync(), a => a.Action == "callbacks.reprocess" && a.AdminKeyId == OperatorHarness.AdminKeyId);
        await tab.Page.GotoAsync("/admin/audit");
        Assert.Contains("callbacks.reprocess", await tab.MainTextAsync(), StringComparison.Ordinal);
        await tab.ScreenshotAsync("audit");
    }

    [Fact]
    public async Task A_job_is_found_by_its_correlation_id_and_shows_its_timeline()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["Archive:Store"] = "FileSystem");
        var submitted = await app.Driver.SubmitAsync(new { provider = "kie", sourceTaskId = "src-timeline", index = 0, mode = "auto", correlationId = "order-4711" });
        var jobId = submitted.GetProperty("jobId").GetString()!;
        await app.Driver.WaitForJobAsync(jobId, "completed");
        await using var tab = await DashboardPage.OpenAsync(chromium, app.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);

        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Link, new() { Name = "Jobs" }));
        await tab.Page.GetByLabel("Job id, provider task id or correlation id").FillAsync("order-4711");
        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Button, new() { Name = "Find" }));

        Assert.Equal($"Job {jobId} · VideoCallbacks", await tab.Page.TitleAsync());
        var timeline = await tab.Page.Locator("ol.timeline li").AllInnerTextsAsync();
        Assert.Contains(timeline, t => t.Contains("Submitted to kie", StringComparison.Ordinal));
        Assert.Contains(timeline, t => t.Contains("video.extension.submitted", StringComparison.Ordinal));
        Assert.Contains(timeline, t => t.Contains("Callback accepted", StringComparison.Ordinal));
        var completed = timeline.ToList().FindIndex(t => t.Contains("video.extension.completed", StringComparison.Ordinal));
        Assert.True(completed > timeline.ToList().FindIndex(t => t.Contains("video.extension.submitted", StringComparison.Ordinal)));
        Assert.Contains(timeline, t => t.Contains("Archive archived", StringComparison.Ordinal));
        // The archived video plays from the dashboard's own session-protected route.
        var video = tab.Page.GetByLabel("Archived video 0");
        Assert.Equal($"/admin/jobs/{jobId}/videos/0", await video.GetAttributeAsync("src"));
        var bytes = await tab.Page.APIRequest.GetAsync($"/admin/jobs/{jobId}/videos/0");
        Assert.Equal(200, bytes.Status);
        Assert.Equal("video/mp4", bytes.Headers["content-type"]);
        Assert.Empty(tab.CspViolations());
        await tab.ScreenshotAsync("job");
    }

    [Fact]
    public async Task A_script_in_a_callback_body_shows_as_text_and_the_page_reports_no_csp_violation()
    {
        await using var h = await OperatorHarness.StartAsync(Db.Sqlite);
        var job = await h.SubmitApiframeAsync("p-xss");
        await h.App.Driver.WaitForJobAsync(job, "processing", "completed");
        var task = await h.TaskOfAsync(job);
        const string script = "<script>document.title='owned'</script><img src=x onerror=document.title='owned'>";
        using (var response = await h.Api.PostApiframeCallbackAsync(task.CallbackUrl!,
            JsonSerializer.Serialize(new { task_id = task.TaskId, status = script }), task.WebhookSecret))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var id = (await h.Api.AllPagesAsync<VideoCallbacks.Contracts.AdminCallback>("/v1/admin/callbacks", "outcome=failed", 100)).Single().Id;
        await using var tab = await DashboardPage.OpenAsync(chromium, h.App.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);

        var page = await tab.Page.GotoAsync($"/admin/callbacks/{id}");

        Assert.Contains(script, await tab.Page.Locator("pre.body").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await tab.Page.Locator("main script, main img").CountAsync());
        Assert.NotEqual("owned", await tab.Page.TitleAsync());
        var csp = page!.Headers["content-security-policy"];
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers["x-content-type-options"]);
        Assert.DoesNotContain(task.WebhookSecret!, await tab.Page.ContentAsync(), StringComparison.Ordinal);
        Assert.Empty(tab.CspViolations());
        await tab.ScreenshotAsync("callback");
    }

    [Fact]
    public async Task Keyboard_alone_reaches_every_action_on_the_failed_events_page()
    {
        await using var h = await OperatorHarness.StartAsync(Db.Sqlite, failing: BrokerFault.InternalError);
        var job = await h.SubmitKieAsync("src-keys");
        var failed = await h.WaitUntilSettledAsync(job);
        await using var tab = await DashboardPage.OpenAsync(chromium, h.App.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);
        await tab.Page.GotoAsync("/admin/events");

        var reached = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            await tab.Page.Keyboard.PressAsync("Tab");
            reached.Add(await tab.Page.EvaluateAsync<string>(
                "() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || e.textContent.trim() || e.getAttribute('name') || e.tagName) : ''; }"));
        }

        foreach (var action in new[] { "Skip to content", "Overview", "Failed events", "Callbacks", "Jobs", "Live", "Audit", "Sign out", "Filter",
                     "Replay all matching…", "Purge all matching…" })
        {
            Assert.Contains(action, reached);
        }
        Assert.All(failed, e => Assert.Contains($"Replay event {e.EventId}", reached));
        // Enter on a focused replay button works without a mouse.
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = $"Replay event {failed[0].EventId}" }).FocusAsync();
        await tab.LoadsPageAsync(() => tab.Page.Keyboard.PressAsync("Enter"));
        Assert.Contains($"Event {failed[0].EventId} is pending again", await tab.MainTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_out_ends_the_session_and_a_copy_of_the_old_cookie_is_refused()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await using var tab = await DashboardPage.OpenAsync(chromium, app.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);
        var copied = (await tab.Context.CookiesAsync()).Select(c => new Microsoft.Playwright.Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, HttpOnly = c.HttpOnly, SameSite = c.SameSite, Expires = c.Expires,
        }).ToList();

        await tab.SubmitAsync(tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }));
        Assert.Contains("You are signed out.", await tab.MainTextAsync(), StringComparison.Ordinal);
        await tab.ScreenshotAsync("signin");

        await using var thief = await DashboardPage.OpenAsync(chromium, app.BaseUrl, copied);
        await thief.Page.GotoAsync("/admin/events");
        Assert.StartsWith($"{app.BaseUrl.ToString().TrimEnd('/')}/admin/signin", thief.Page.Url, StringComparison.Ordinal);
        Assert.True(await thief.Page.GetByLabel("Admin API key").IsVisibleAsync());
    }

    [Fact]
    public async Task The_live_page_shows_events_as_they_arrive_and_pauses()
    {
        // No reconciliation: its progress event for the ~never task would make "Paused (1 waiting)" before the callback.
        await using var app = await TestApp.StartAsync(Db.Sqlite, TestApp.NoReconcile);
        await using var tab = await DashboardPage.OpenAsync(chromium, app.BaseUrl);
        await tab.SignInAsync(TestApp.AdminKey);
        await tab.Page.GotoAsync("/admin/live");
        await Assertions.Expect(tab.Page.Locator("#live-status")).ToHaveTextAsync("Live");

        // The task never completes on its own: the completion callback is posted only once the page is paused, so a
        // slow click cannot let it through first.
        var hook = await Kit.SubmitForHookAsync(app, "kie", "~never");

        await Assertions.Expect(tab.Page.Locator("#live tr").Filter(new() { HasText = "video.extension.submitted" })).ToHaveCountAsync(1);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(tab.Page.Locator("#live-status")).ToHaveTextAsync("Paused (0 waiting)");
        Assert.Equal("accepted", Kit.Outcome(await Kit.AckAsync(
            await Kit.PostKieAsync(app, hook, Fixture.Load("kie/callback-success.json", hook.ProviderTaskId!)))));
        await Assertions.Expect(tab.Page.Locator("#live-status")).ToHaveTextAsync(new Regex(@"^Paused \([1-9]\d* waiting\)$"));
        Assert.Equal(0, await tab.Page.Locator("#live tr").Filter(new() { HasText = "video.extension.completed" }).CountAsync());
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Assertions.Expect(tab.Page.Locator("#live tr").Filter(new() { HasText = "video.extension.completed" })).ToHaveCountAsync(1);
        Assert.Empty(tab.CspViolations());
        await tab.ScreenshotAsync("live");
    }
}
