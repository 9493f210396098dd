namespace VideoCallbacks.Tests.Operators;

/// <summary>The admin lists: every filter narrows to exactly the matching rows, and cursors walk every row once.</summary>
public sealed class OperatorListTests
{
    [Theory, BothDatabases]
    public async Task Event_filters_select_exactly_their_events_and_cursors_walk_every_page_without_gaps_or_repeats(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, failing: BrokerFault.InternalError);
        // Early: two Kie jobs whose events fail. Later: two Apiframe jobs whose events are published.
        var early = await h.WaitUntilSettledAsync(await h.SubmitKieAsync("src-1"), await h.SubmitKieAsync("src-2"));
        h.Broker.ClearFaults();
        await Task.Delay(20); // keep the two groups' millisecond timestamps apart
        var late = await h.WaitUntilSettledAsync(await h.SubmitApiframeAsync("p-1"), await h.SubmitApiframeAsync("p-2"));

        var all = await h.Api.AdminEventsAsync();
        Assert.Equal(early.Concat(late).Select(e => e.EventId).Order(StringComparer.Ordinal), all.Select(e => e.EventId).Order(StringComparer.Ordinal));
        Assert.Equal(all.OrderBy(e => e.Sequence), all);
        Assert.All(early, e => Assert.Equal("failed", e.Status));
        Assert.All(late, e => Assert.Equal("published", e.Status));
        Assert.Contains(late, e => e.Type == "video.extension.progress");

        async Task Expect(string query, IEnumerable<AdminEvent> expected)
        {
            var got = await h.Api.AdminEventsAsync(query);
            Assert.True(got.Count > 0 || !expected.Any(), query);
            Assert.Equal(expected.OrderBy(e => e.Sequence).Select(e => e.EventId), got.Select(e => e.EventId));
        }

        await Expect("status=failed", all.Where(e => e.Status == "failed"));
        await Expect("status=published", all.Where(e => e.Status == "published"));
        await Expect("status=pending", []);
        await Expect("provider=kie", all.Where(e => e.Provider == "kie"));
        await Expect("provider=apiframe", all.Where(e => e.Provider == "apiframe"));
        await Expect("provider=nanogpt", []);
        await Expect("type=video.extension.completed", all.Where(e => e.Type == "video.extension.completed"));
        await Expect("type=video.extension.progress&provider=apiframe&status=published", all.Where(e => e.Type == "video.extension.progress"));
        await Expect("type=video.extension.submitted&status=failed", early.Where(e => e.Type == "video.extension.submitted"));

        // since is inclusive, until exclusive: a boundary at the first late event splits the two groups exactly.
        var boundary = late.Min(e => e.CreatedAt);
        Assert.True(early.Max(e => e.CreatedAt) < boundary);
        var at = Uri.EscapeDataString(boundary.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        await Expect($"since={at}", late);
        await Expect($"until={at}", early);
        await Expect($"since={at}&until={at}", []);
        await Expect($"since={at}&provider=kie", []);

        foreach (var pageSize in new[] { 1, 2, 3, all.Count, all.Count + 1 })
        {
            var pages = new List<int>();
            var walked = await h.Api.AllPagesAsync<AdminEvent>("/v1/admin/events", "", pageSize, pages);
            Assert.Equal(all, walked);
            Assert.True(pages.Count <= all.Count / pageSize + 1, $"{pages.Count} pages of {pageSize}");
            Assert.All(pages.SkipLast(1), n => Assert.Equal(pageSize, n));
        }
        var failedPages = await h.Api.AllPagesAsync<AdminEvent>("/v1/admin/events", "status=failed", 3);
        Assert.Equal(all.Where(e => e.Status == "failed"), failedPages);

        // The CLI reads the real API's pages: as a table, and following the cursors.
        var table = await h.CliAsync("events", "list", "--status", "failed");
        Assert.True(table.ExitCode == 0, table.ToString());
        var tableRows = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(early.Count, tableRows.Count);
        Assert.All(early, e => Assert.Contains(tableRows, row => row.Contains(e.EventId, StringComparison.Ordinal) && row.Contains("failed", StringComparison.Ordinal)));
        var paged = await h.CliAsync("events", "list", "--limit", "2");
        Assert.Contains("--cursor ", paged.Stdout, StringComparison.Ordinal);

        var cli = await h.CliAsync("events", "list", "--status", "published", "--limit", "2", "--all", "--json");
        Assert.True(cli.ExitCode == 0, cli.ToString());
        using var document = JsonDocument.Parse(cli.Stdout);
        Assert.Equal(all.Where(e => e.Status == "published").Select(e => e.EventId),
            document.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()));
    }

    [Theory, BothDatabases]
    public async Task Callback_filters_select_exactly_their_callbacks_and_cursors_walk_every_page_without_gaps_or_repeats(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db);
        // Early: genuine callbacks from the simulator; one Apiframe job has its final callback delivered twice.
        var kie = await h.SubmitKieAsync("src-1");
        var apiframe = await h.SubmitApiframeAsync("p-1");
        var doubled = await h.SubmitApiframeAsync("p-2~dup=2");
        var quiet = await h.SubmitApiframeAsync("p-3~nocallback");
        await h.WaitUntilSettledAsync(kie, apiframe, doubled);
        var early = await Wait.UntilAsync(() => h.Api.AdminCallbacksAsync(), list => list.Any(c => c.Outcome == "duplicate"), "the duplicate final callback");
        await Task.Delay(20); // keep the two groups' millisecond timestamps apart

        // Late: one not understood, one with the wrong secret, one for no job.
        var task = await h.TaskOfAsync(quiet);
        var unreadable = OperatorHarness.UnreadableCallback(task);
        (await h.Api.PostApiframeCallbackAsync(task.CallbackUrl!, unreadable, task.WebhookSecret)).Dispose();
        (await h.Api.PostApiframeCallbackAsync(task.CallbackUrl!, unreadable, "wrong")).Dispose();
        (await h.Api.PostApiframeCallbackAsync(task.CallbackUrl!.Replace(quiet, "job_nobody", StringComparison.Ordinal), unreadable, task.WebhookSecret)).Dispose();
        var all = await Wait.UntilAsync(() => h.Api.AdminCallbacksAsync(), list => list.Count == early.Count + 3, "the three late callbacks");
        var late = all.Skip(early.Count).ToList();
        Assert.Equal(early, all.Take(early.Count));
        Assert.Equal(["failed", "rejected", "unmatched"], late.Select(c => c.Outcome));
        Assert.Equal(all.OrderBy(c => c.Id), all);

        async Task Expect(string query, IEnumerable<AdminCallback> expected)
        {
            var got = await h.Api.AdminCallbacksAsync(query);
            Assert.True(got.Count > 0 || !expected.Any(), query);
            Assert.Equal(expected.OrderBy(c => c.Id).Select(c => c.Id), got.Select(c => c.Id));
        }

        foreach (var outcome in new[] { "accepted", "duplicate", "rejected", "unmatched", "failed" })
        {
            Assert.Contains(all, c => c.Outcome == outcome);
            await Expect($"outcome={outcome}", all.Where(c => c.Outcome == outcome));
        }
        await Expect("provider=kie", all.Where(c => c.Provider == "kie"));
        await Expect("provider=apiframe&outcome=accepted", all.Where(c => c.Provider == "apiframe" && c.Outcome == "accepted"));
        await Expect("provider=nanogpt", []);

        var boundary = late.Min(c => c.ReceivedAt);
        Assert.True(early.Max(c => c.ReceivedAt) < boundary);
        var at = Uri.EscapeDataString(boundary.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        await Expect($"since={at}", late);
        await Expect($"until={at}", early);
        await Expect($"since={at}&outcome=accepted", []);

        foreach (var pageSize in new[] { 1, 2, 4, all.Count })
        {
            var pages = new List<int>();
            Assert.Equal(all, await h.Api.AllPagesAsync<AdminCallback>("/v1/admin/callbacks", "", pageSize, pages));
            Assert.All(pages.SkipLast(1), n => Assert.Equal(pageSize, n));
        }
        Assert.Equal(all.Where(c => c.Provider == "apiframe"), await h.Api.AllPagesAsync<AdminCallback>("/v1/admin/callbacks", "provider=apiframe", 2));

        var table = await h.CliAsync("callbacks", "list", "--outcome", "rejected");
        Assert.True(table.ExitCode == 0, table.ToString());
        var row = Assert.Single(table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1));
        Assert.Contains("rejected", row, StringComparison.Ordinal);
        Assert.Contains(quiet, row, StringComparison.Ordinal);

        var cli = await h.CliAsync("callbacks", "list", "--outcome", "accepted", "--limit", "1", "--all", "--json");
        Assert.True(cli.ExitCode == 0, cli.ToString());
        using var document = JsonDocument.Parse(cli.Stdout);
        Assert.Equal(all.Where(c => c.Outcome == "accepted").Select(c => c.Id),
            document.RootElement.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Bad_filter_values_are_400_problems_naming_each_bad_field()
    {
        await using var h = await OperatorHarness.StartAsync(Db.Sqlite);

        (string Url, string[] Fields)[] queries =
        [
            ("/v1/admin/events?status=bogus", ["status"]),
            ("/v1/admin/events?limit=0", ["limit"]),
            ("/v1/admin/events?limit=501", ["limit"]),
            ("/v1/admin/events?limit=ten", ["limit"]),
            ("/v1/admin/events?since=yesterday", ["since"]),
            ("/v1/admin/events?until=soon", ["until"]),
            ("/v1/admin/events?provider=runway", ["provider"]),
            ("/v1/admin/events?type=video.extension.started", ["type"]),
            ("/v1/admin/events?cursor=page-2", ["cursor"]),
            ("/v1/admin/events?status=bogus&limit=0&since=yesterday", ["status", "limit", "since"]),
            ("/v1/admin/callbacks?outcome=bogus", ["outcome"]),
            ("/v1/admin/callbacks?limit=0", ["limit"]),
            ("/v1/admin/callbacks?since=yesterday", ["since"]),
            ("/v1/admin/callbacks?provider=runway&cursor=x", ["provider", "cursor"]),
            ("/v1/admin/audit?limit=0", ["limit"]),
        ];
        foreach (var (url, fields) in queries)
        {
            using var response = await h.Admin.GetAsync(url);
            await OperatorHarness.AssertValidationProblemAsync(response, fields);
        }

        (object Body, string[] Fields)[] replays =
        [
            (new { status = "published" }, ["status"]),
            (new { status = "pending" }, ["status"]),
            (new { status = "failed", limit = 0 }, ["limit"]),
            (new { status = "failed", provider = "runway" }, ["provider"]),
            (new { status = "failed", type = "video.extension.started" }, ["type"]),
            (new { status = "failed", since = "2026-01-02T00:00:00Z", until = "2026-01-01T00:00:00Z" }, ["until"]),
        ];
        foreach (var (body, fields) in replays)
        {
            using var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", body);
            await OperatorHarness.AssertValidationProblemAsync(response, fields);
        }

        // The CLI refuses a bad value before sending anything (usage error, exit 2).
        var cli = await h.CliAsync("events", "list", "--status", "bogus");
        Assert.Equal(2, cli.ExitCode);
        Assert.Contains("bogus", cli.Stderr, StringComparison.Ordinal);

        Assert.Empty(await h.Api.AuditAsync());
        using var fine = await h.Admin.GetAsync("/v1/admin/events?status=failed&limit=500");
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }
}
