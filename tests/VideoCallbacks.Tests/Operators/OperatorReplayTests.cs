namespace VideoCallbacks.Tests.Operators;

/// <summary>Replaying failed events, one or in bulk, through the CLI and the admin API, against the real service and a broker that fails.</summary>
public sealed class OperatorReplayTests
{
    [Theory, BothDatabases]
    public async Task Bulk_replay_from_the_cli_delivers_each_failed_event_exactly_once(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, failing: BrokerFault.InternalError);
        string[] jobs = [await h.SubmitKieAsync("src-1"), await h.SubmitKieAsync("src-2"), await h.SubmitApiframeAsync("p")];

        var settled = await h.WaitUntilSettledAsync(jobs);
        Assert.All(settled, e => Assert.Equal("failed", e.Status));
        Assert.All(settled, e => Assert.Equal(2, e.Attempts));
        Assert.All(settled, e => Assert.StartsWith("Transient", e.LastError, StringComparison.Ordinal));
        Assert.Empty(h.Broker.Messages);
        var failedIds = settled.Select(e => e.EventId).Order(StringComparer.Ordinal).ToList();
        Assert.Contains(failedIds, id => id.EndsWith(":completed", StringComparison.Ordinal));

        h.Broker.ClearFaults();
        var run = await h.CliAsync("events", "replay", "--status", "failed", "--yes");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stderr);
        Assert.Contains($"Replayed {failedIds.Count} events ({failedIds.Count} matched).", run.Stdout, StringComparison.Ordinal);
        var published = await Wait.UntilAsync(() => h.Api.AdminEventsAsync(), events => events.All(e => e.Status == "published"), "the replayed events to be published");
        Assert.Equal(failedIds, published.Select(e => e.EventId).Order(StringComparer.Ordinal));
        Assert.Equal(failedIds, h.EnqueuedIds().Order(StringComparer.Ordinal));
        // Sent once each: not merely de-duplicated by the broker.
        Assert.Equal(failedIds, h.AcceptedSends().Order(StringComparer.Ordinal));
        Assert.Equal(0, h.Broker.DuplicatesDropped);

        // Safe to repeat: nothing is failed any more, so nothing is replayed or sent again.
        var again = await h.CliAsync("events", "replay", "--status", "failed", "--yes", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        using (var result = JsonDocument.Parse(again.Stdout))
        {
            Assert.Equal(0, result.RootElement.GetProperty("replayed").GetInt32());
            Assert.Equal(0, result.RootElement.GetProperty("matched").GetInt32());
        }
        var human = await h.CliAsync("events", "replay", "--status", "failed", "--yes");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("Replayed 0 events (0 matched).", human.Stdout, StringComparison.Ordinal);
        Assert.All(await h.Api.AdminEventsAsync(), e => Assert.Equal("published", e.Status));
        Assert.Equal(failedIds, h.AcceptedSends().Order(StringComparer.Ordinal));
    }

    [Theory, BothDatabases]
    public async Task Bulk_replay_of_published_events_from_the_cli_shows_the_duplicate_detection_warning(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db);
        var job = await h.SubmitKieAsync("src-bulk-forced");
        await h.WaitUntilSettledAsync(job);

        // The CLI reads the API's own BulkReplayResult, warning included (it used to drop it).
        var run = await h.CliAsync("events", "replay", "--status", "published", "--force", "--yes");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Replayed", run.Stdout, StringComparison.Ordinal);
        var warning = Assert.Single(run.ErrLines);
        Assert.StartsWith("warning: The event was already published", warning, StringComparison.Ordinal);
        Assert.Contains("duplicate detection", warning, StringComparison.Ordinal);
    }

    [Theory, BothDatabases]
    public async Task Single_replay_redelivers_a_failed_event_and_needs_force_for_a_published_one(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, failing: BrokerFault.InternalError);
        var job = await h.SubmitKieAsync("src-1");
        var events = await h.WaitUntilSettledAsync(job);
        Assert.All(events, e => Assert.Equal("failed", e.Status));
        var submitted = events.Single(e => e.Type == "video.extension.submitted").EventId;
        var completed = events.Single(e => e.Type == "video.extension.completed").EventId;
        h.Broker.ClearFaults();

        // CLI: one failed event goes back to pending and is delivered; its sibling stays failed.
        var cli = await h.CliAsync("events", "replay", submitted);
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Equal($"Replayed event {submitted}.", cli.Stdout.Trim());
        Assert.Equal("", cli.Stderr);
        await WaitForStatusAsync(h, submitted, "published");
        Assert.Equal([submitted], h.EnqueuedIds());
        Assert.Equal("failed", (await EventAsync(h, completed)).Status);

        // HTTP: the same for the other one.
        using (var response = await h.Admin.PostAsync($"/v1/admin/events/{completed}/replay", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(1, body.GetProperty("replayed").GetInt32());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("warning").ValueKind);
        }
        await WaitForStatusAsync(h, completed, "published");
        Assert.Equal([submitted, completed], h.EnqueuedIds());
        Assert.Equal([submitted, completed], h.AcceptedSends());

        // A published event is not replayed without force, over HTTP or from the CLI.
        using (var response = await h.Admin.PostAsync($"/v1/admin/events/{completed}/replay", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.JsonAsync();
            Assert.Equal(409, problem.GetProperty("status").GetInt32());
            Assert.Contains("force", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        var refused = await h.CliAsync("events", "replay", completed);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("", refused.Stdout);
        var line = Assert.Single(refused.ErrLines);
        Assert.StartsWith("error: 409", line, StringComparison.Ordinal);
        Assert.Contains("force", line, StringComparison.Ordinal);
        Assert.Equal("published", (await EventAsync(h, completed)).Status);

        // With force it is sent again, with a warning: the topic's duplicate detection drops the re-send.
        using (var response = await h.Admin.PostAsync($"/v1/admin/events/{completed}/replay?force=true", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(1, body.GetProperty("replayed").GetInt32());
            Assert.Contains("duplicate detection", body.GetProperty("warning").GetString(), StringComparison.Ordinal);
        }
        await Wait.UntilAsync(() => Task.FromResult(h.Broker.DuplicatesDropped), n => n == 1, "the forced re-send");
        await WaitForStatusAsync(h, completed, "published");
        Assert.Equal([submitted, completed], h.EnqueuedIds());
        Assert.Equal(2, h.AcceptedSends().Count(id => id == completed));

        var forced = await h.CliAsync("events", "replay", submitted, "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Equal($"Replayed event {submitted}.", forced.Stdout.Trim());
        var warning = Assert.Single(forced.ErrLines);
        Assert.StartsWith("warning: ", warning, StringComparison.Ordinal);
        Assert.Contains("duplicate detection", warning, StringComparison.Ordinal);
        await Wait.UntilAsync(() => Task.FromResult(h.Broker.DuplicatesDropped), n => n == 2, "the second forced re-send");
        await WaitForStatusAsync(h, submitted, "published");
        Assert.Equal([submitted, completed], h.EnqueuedIds());

        using (var response = await h.Admin.PostAsync("/v1/admin/events/no-such-event/replay", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        var missing = await h.CliAsync("events", "replay", "no-such-event");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: 404", Assert.Single(missing.ErrLines), StringComparison.Ordinal);
    }

    [Theory, BothDatabases]
    public async Task Dry_run_replay_counts_and_changes_nothing(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, failing: BrokerFault.InternalError);
        var jobs = new[] { await h.SubmitKieAsync("src-1"), await h.SubmitKieAsync("src-2") };
        var before = await h.WaitUntilSettledAsync(jobs);
        Assert.Equal(4, before.Count);
        Assert.All(before, e => Assert.Equal("failed", e.Status));
        h.Broker.ClearFaults();

        var cli = await h.CliAsync("events", "replay", "--status", "failed", "--dry-run");
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Equal("Dry run: 4 events would be replayed (4 matched); nothing changed.", cli.Stdout.Trim());

        var cliJson = await h.CliAsync("events", "replay", "--status", "failed", "--provider", "kie", "--dry-run", "--json");
        Assert.True(cliJson.ExitCode == 0, cliJson.ToString());
        using (var result = JsonDocument.Parse(cliJson.Stdout))
        {
            Assert.Equal(0, result.RootElement.GetProperty("replayed").GetInt32());
            Assert.Equal(4, result.RootElement.GetProperty("matched").GetInt32());
            Assert.True(result.RootElement.GetProperty("dryRun").GetBoolean());
        }

        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed", dryRun = true }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(0, body.GetProperty("replayed").GetInt32());
            Assert.Equal(4, body.GetProperty("matched").GetInt32());
            Assert.True(body.GetProperty("dryRun").GetBoolean());
        }
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed", limit = 1, dryRun = true }))
        {
            Assert.Equal(1, (await response.JsonAsync()).GetProperty("matched").GetInt32());
        }
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed", provider = "apiframe", dryRun = true }))
        {
            Assert.Equal(0, (await response.JsonAsync()).GetProperty("matched").GetInt32());
        }

        var after = await h.Api.AdminEventsAsync();
        Assert.Equal(before, after);
        Assert.Empty(await h.Api.AuditAsync());

        // A real replay of one event afterwards: once the relay has delivered it, the broker holds that one event
        // and no other, so the dry runs put nothing back to pending.
        var one = before[0].EventId;
        using (var response = await h.Admin.PostAsync($"/v1/admin/events/{one}/replay", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await WaitForStatusAsync(h, one, "published");
        Assert.Equal([one], h.EnqueuedIds());
        Assert.Equal(before.Skip(1), await h.Api.AdminEventsAsync("status=failed"));
        var audit = Assert.Single(await h.Api.AuditAsync());
        Assert.Equal("events.replay", audit.Action);
        Assert.Equal(one, audit.Target);
    }

    [Theory, BothDatabases]
    public async Task Bulk_replay_is_bounded_by_its_filter_and_limit(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, failing: BrokerFault.InternalError);
        var kie = await h.SubmitKieAsync("src-1");
        var apiframe = await h.SubmitApiframeAsync("p");
        var failed = await h.WaitUntilSettledAsync(kie, apiframe);
        Assert.All(failed, e => Assert.Equal("failed", e.Status));
        h.Broker.ClearFaults();

        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed", provider = "kie" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(2, body.GetProperty("replayed").GetInt32());
            Assert.Equal(2, body.GetProperty("matched").GetInt32());
        }
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed", limit = 1 }))
        {
            Assert.Equal(1, (await response.JsonAsync()).GetProperty("replayed").GetInt32());
        }
        var kieIds = failed.Where(e => e.Provider == "kie").Select(e => e.EventId).ToList();
        var firstApiframe = failed.Where(e => e.Provider == "apiframe").OrderBy(e => e.Sequence).First().EventId;
        var expected = kieIds.Append(firstApiframe).Order(StringComparer.Ordinal).ToList();
        await Wait.UntilAsync(() => h.Api.AdminEventsAsync("status=published"), p => p.Count == expected.Count, "the replayed events to be published");
        Assert.Equal(expected, h.EnqueuedIds().Order(StringComparer.Ordinal));
        Assert.Equal(failed.Count - expected.Count, (await h.Api.AdminEventsAsync("status=failed")).Count);

        // Published events are re-sent in bulk only with force, and with the duplicate-detection warning.
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed" }))
        {
            Assert.Equal(failed.Count - expected.Count, (await response.JsonAsync()).GetProperty("replayed").GetInt32());
        }
        await Wait.UntilAsync(() => h.Api.AdminEventsAsync("status=published"), p => p.Count == failed.Count, "every event to be published");
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "published", provider = "kie" }))
        {
            await OperatorHarness.AssertValidationProblemAsync(response, "status");
        }
        var forced = await h.CliAsync("events", "replay", "--status", "published", "--provider", "kie", "--force", "--yes");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Contains("Replayed 2 events (2 matched).", forced.Stdout, StringComparison.Ordinal);
        await Wait.UntilAsync(() => Task.FromResult(h.Broker.DuplicatesDropped), n => n == 2, "the forced re-sends");
        await Wait.UntilAsync(() => h.Api.AdminEventsAsync("status=published"), p => p.Count == failed.Count, "the forced events to be published again");
        Assert.Equal(failed.Select(e => e.EventId).Order(StringComparer.Ordinal), h.EnqueuedIds().Order(StringComparer.Ordinal));
    }

    private static async Task<AdminEvent> EventAsync(OperatorHarness h, string eventId) =>
        (await h.Api.AdminEventsAsync()).Single(e => e.EventId == eventId);

    private static Task<AdminEvent> WaitForStatusAsync(OperatorHarness h, string eventId, string status) =>
        Wait.UntilAsync(() => EventAsync(h, eventId), e => e.Status == status, $"{eventId} to be {status}");
}
