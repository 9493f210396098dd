using System.Net.Http.Json;

namespace VideoCallbacks.Tests.Operators;

/// <summary>Only admin keys may use the operator tools, and everything they change is audited by key id, never by key.</summary>
public sealed class OperatorAccessAndAuditTests
{
    [Fact]
    public async Task Admin_routes_refuse_client_keys_with_403_and_missing_or_unknown_keys_with_401()
    {
        await using var h = await OperatorHarness.StartAsync(Db.Sqlite, failing: BrokerFault.InternalError);
        var jobId = await h.SubmitKieAsync("src-1");
        var failed = await h.WaitUntilSettledAsync(jobId);
        Assert.All(failed, e => Assert.Equal("failed", e.Status));
        h.Broker.ClearFaults();
        var callbackId = Assert.Single(await h.Api.AdminCallbacksAsync()).Id;
        var eventId = failed[0].EventId;

        (HttpMethod Method, string Path, object? Body)[] routes =
        [
            (HttpMethod.Get, "/v1/admin/events", null),
            (HttpMethod.Get, "/v1/admin/events?status=failed", null),
            (HttpMethod.Post, $"/v1/admin/events/{eventId}/replay", null),
            (HttpMethod.Post, $"/v1/admin/events/{eventId}/replay?force=true", null),
            (HttpMethod.Post, "/v1/admin/events/replay", new { status = "failed" }),
            (HttpMethod.Post, "/v1/admin/events/purge", new { status = "failed" }),
            (HttpMethod.Get, "/v1/admin/callbacks", null),
            (HttpMethod.Post, $"/v1/admin/callbacks/{callbackId}/reprocess", null),
            (HttpMethod.Get, "/v1/admin/audit", null),
        ];
        var client = h.App.Driver.Http;
        var otherClient = h.App.Driver.As(TestApp.OtherClientKey).Http;
        var anonymous = h.App.Driver.Anonymous;
        var unknown = h.App.Driver.As("not-a-key-anyone-configured-0123456789").Http;
        foreach (var (method, path, body) in routes)
        {
            foreach (var forbidden in new[] { client, otherClient })
            {
                using var response = await SendAsync(forbidden, method, path, body);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with a client key: {(int)response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Equal(403, (await response.JsonAsync()).GetProperty("status").GetInt32());
            }
            foreach (var unauthenticated in new[] { anonymous, unknown })
            {
                using var response = await SendAsync(unauthenticated, method, path, body);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a valid key: {(int)response.StatusCode}");
            }
        }

        // The CLI with a client key: exit 1 and one line saying why, never echoing the key.
        var cli = await h.CliWithKeyAsync(TestApp.ClientKey, "events", "replay", "--status", "failed", "--yes");
        Assert.Equal(1, cli.ExitCode);
        Assert.Equal("", cli.Stdout);
        var line = Assert.Single(cli.ErrLines);
        Assert.StartsWith("error: 403", line, StringComparison.Ordinal);
        Assert.Contains("admin key", line, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.ClientKey, cli.Stderr, StringComparison.Ordinal);

        var list = await h.CliWithKeyAsync(TestApp.ClientKey, "events", "list");
        Assert.Equal(1, list.ExitCode);
        Assert.StartsWith("error: 403", Assert.Single(list.ErrLines), StringComparison.Ordinal);

        var noKey = await h.CliWithKeyAsync(null, "audit", "list");
        Assert.Equal(1, noKey.ExitCode);
        var noKeyLine = Assert.Single(noKey.ErrLines);
        Assert.StartsWith("error: 401", noKeyLine, StringComparison.Ordinal);
        Assert.Contains("--admin-key", noKeyLine, StringComparison.Ordinal);

        // None of it changed anything.
        Assert.Equal(failed, await h.Api.AdminEventsAsync());
        Assert.Empty(h.Broker.Messages);
        Assert.Empty(await h.Api.AuditAsync());
    }

    [Theory, BothDatabases]
    public async Task Replays_and_reprocessing_are_audited_with_the_admin_key_id_never_the_key(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, failing: BrokerFault.InternalError);
        var k1 = await h.SubmitKieAsync("src-1");
        var k2 = await h.SubmitKieAsync("src-2");
        var a = await h.SubmitApiframeAsync("p~nocallback");
        var task = await h.PostUnreadableCallbackAsync(a);
        var failedCallback = Assert.Single(await h.Api.AdminCallbacksAsync("outcome=failed"));
        var settledKie = await h.WaitUntilSettledAsync(k1, k2);
        var apiframeSubmitted = $"{a}:submitted";
        await Wait.UntilAsync(() => h.Api.AdminEventsAsync("status=failed"), list => list.Count == 5, "five failed events");
        h.Broker.ClearFaults();
        var k1Submitted = settledKie.Single(e => e.JobId == k1 && e.Type == "video.extension.submitted").EventId;
        var k1Completed = settledKie.Single(e => e.JobId == k1 && e.Type == "video.extension.completed").EventId;

        // 1. single replay, CLI
        Assert.Equal(0, (await h.CliAsync("events", "replay", k1Submitted)).ExitCode);
        // 2. single replay, HTTP
        using (var response = await h.Admin.PostAsync($"/v1/admin/events/{k1Completed}/replay", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // A dry run is not audited.
        Assert.Equal(0, (await h.CliAsync("events", "replay", "--status", "failed", "--dry-run")).ExitCode);
        // 3. bulk replay, CLI
        var bulk = await h.CliAsync("events", "replay", "--status", "failed", "--provider", "kie", "--yes");
        Assert.True(bulk.ExitCode == 0, bulk.ToString());
        Assert.Contains("Replayed 2 events (2 matched).", bulk.Stdout, StringComparison.Ordinal);
        // 4. bulk replay, HTTP
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed" }))
        {
            Assert.Equal(1, (await response.JsonAsync()).GetProperty("replayed").GetInt32());
        }
        // 5. reprocess, HTTP (after the simulated normalizer fix)
        var fixedBody = JsonSerializer.Serialize(new
        {
            task_id = task.TaskId, task_type = "imagine-video-extend", status = "finished",
            video_urls = new[] { $"https://cdn.simulator.invalid/{task.TaskId}/1.mp4" },
        });
        await h.ExecuteSqlAsync("UPDATE callbacks SET body = @body WHERE id = @id", ("@body", fixedBody), ("@id", failedCallback.Id));
        var callbackTarget = failedCallback.Id.ToString(CultureInfo.InvariantCulture);
        using (var response = await h.Admin.PostAsync($"/v1/admin/callbacks/{callbackTarget}/reprocess", null))
        {
            Assert.Equal("accepted", (await response.JsonAsync()).GetProperty("outcome").GetString());
        }
        // 6. reprocess again, CLI
        Assert.Equal(0, (await h.CliAsync("callbacks", "reprocess", callbackTarget)).ExitCode);
        // 7. forced replay of a published event, CLI
        await Wait.UntilAsync(() => h.Api.AdminEventsAsync(), list => list.All(e => e.Status == "published"), "all published");
        Assert.Equal(0, (await h.CliAsync("events", "replay", k1Completed, "--force")).ExitCode);

        using var raw = await h.Admin.GetAsync("/v1/admin/audit");
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        var rawText = await raw.Content.ReadAsStringAsync();
        Assert.DoesNotContain(TestApp.AdminKey, rawText, StringComparison.Ordinal);
        var audit = (await raw.Content.ReadFromJsonAsync<Page<AuditEntry>>(ServiceApi.Json))!.Items;

        Assert.Equal(
            ["events.replay", "events.replay", "events.replay-bulk", "events.replay-bulk", "callbacks.reprocess", "callbacks.reprocess", "events.replay"],
            audit.Select(e => e.Action));
        Assert.All(audit, e => Assert.Equal(OperatorHarness.AdminKeyId, e.AdminKeyId));
        Assert.Equal(audit.Select(e => e.Id).Order(), audit.Select(e => e.Id));
        Assert.True(audit.Zip(audit.Skip(1)).All(p => p.First.At <= p.Second.At), "audit times go forward");

        Assert.Equal((k1Submitted, 1), (audit[0].Target, audit[0].Count));
        Assert.Equal((k1Completed, 1), (audit[1].Target, audit[1].Count));
        Assert.Equal(2, audit[2].Count);
        Assert.Contains("kie", audit[2].Target, StringComparison.Ordinal);
        Assert.Contains("failed", audit[2].Target, StringComparison.Ordinal);
        Assert.Contains("matched 2", audit[2].Details, StringComparison.Ordinal);
        Assert.Equal(1, audit[3].Count);
        Assert.Contains("matched 1", audit[3].Details, StringComparison.Ordinal);
        Assert.Equal((callbackTarget, 1), (audit[4].Target, audit[4].Count));
        Assert.Contains("accepted", audit[4].Details, StringComparison.Ordinal);
        Assert.Contains($"{a}:completed", audit[4].Details, StringComparison.Ordinal);
        Assert.Equal((callbackTarget, 1), (audit[5].Target, audit[5].Count));
        Assert.Contains("duplicate", audit[5].Details, StringComparison.Ordinal);
        Assert.Equal((k1Completed, 1), (audit[6].Target, audit[6].Count));
        Assert.Contains("force", audit[6].Details, StringComparison.Ordinal);
        Assert.DoesNotContain(audit, e => e.Target == apiframeSubmitted); // bulk entries name the filter, not each event

        // The same through the CLI: as a table and as JSON, across pages.
        var table = await h.CliAsync("audit", "list");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.DoesNotContain(TestApp.AdminKey, table.Stdout + table.Stderr, StringComparison.Ordinal);
        var rows = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(7, rows.Count);
        Assert.All(rows, row => Assert.Contains(OperatorHarness.AdminKeyId, row, StringComparison.Ordinal));
        Assert.Contains(rows, row => row.Contains("callbacks.reprocess", StringComparison.Ordinal) && row.Contains(callbackTarget, StringComparison.Ordinal));
        Assert.Contains(rows, row => row.Contains("events.replay-bulk", StringComparison.Ordinal));
        Assert.Contains(rows, row => row.Contains("events.replay ", StringComparison.Ordinal) && row.Contains(k1Submitted, StringComparison.Ordinal));

        var json = await h.CliAsync("audit", "list", "--limit", "3", "--all", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.DoesNotContain(TestApp.AdminKey, json.Stdout, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal(audit.Select(e => e.Id), document.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, object? body)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        return client.SendAsync(request);
    }
}
