using System.Net;
using VideoCallbacks.Tests.Infrastructure;
using VideoCallbacks.Tests.ServiceBus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>Each class of broker failure, as the relay handles it end to end.</summary>
public sealed class RelayFaultTests
{
    [Theory]
    [InlineData(Db.Sqlite, "429")]
    [InlineData(Db.Postgres, "429")]
    [InlineData(Db.Sqlite, "500")]
    [InlineData(Db.Postgres, "500")]
    [InlineData(Db.Sqlite, "503")]
    [InlineData(Db.Postgres, "503")]
    [InlineData(Db.Sqlite, "timeout")]
    [InlineData(Db.Postgres, "timeout")]
    public async Task Transient_failures_are_retried_with_backoff_and_published_once_the_fault_clears(Db db, string fault)
    {
        await using var broker = await FakeServiceBusServer.StartAsync();
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionString);
            s["Relay:MaxAttempts"] = "1000";
            if (fault == "timeout")
            {
                s["Bus:ServiceBus:SendTimeout"] = "00:00:00.300";
            }
        });
        using var client = app.Client();
        using var admin = app.Admin();
        broker.FailUntilCleared(fault == "timeout"
            ? FakeServiceBusFault.Slow(TimeSpan.FromMinutes(10))
            : FakeServiceBusFault.Status(int.Parse(fault, System.Globalization.CultureInfo.InvariantCulture), "Injected transient fault."));

        var jobs = await RelayKit.SubmitJobsAsync(client, kie: 2, apiframe: 1);
        await RelayKit.WaitForJobsToFinishAsync(client, jobs);
        var committed = await RelayKit.FeedAsync(client);

        var failing = await RelayKit.WaitForEventsAsync(
            admin,
            all => all.Count == committed.Count && all.All(e => e.Status == "pending" && e.Attempts >= 2),
            "every event to have failed at least twice and still be pending");
        var expected = fault == "timeout" ? "no answer from Service Bus" : $"Service Bus answered {fault}";
        Assert.All(failing, e =>
        {
            Assert.StartsWith("Transient: ", e.LastError, StringComparison.Ordinal);
            Assert.Contains(expected, e.LastError, StringComparison.Ordinal);
            Assert.NotNull(e.NextAttemptAt); // a retry is scheduled
        });
        Assert.Empty(broker.Messages);
        // Broker trouble that will pass does not take the instance out of service.
        var (status, ready) = await RelayKit.ReadyAsync(client);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());

        broker.ClearFaults();

        var published = await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.All(published, e =>
        {
            Assert.True(e.Attempts >= 3, $"{e.EventId} published after {e.Attempts} attempts");
            Assert.Null(e.LastError);
        });
    }

    [Theory]
    [InlineData(Db.Sqlite, 401, "InvalidSignature: The token has an invalid signature.")]
    [InlineData(Db.Postgres, 401, "InvalidSignature: The token has an invalid signature.")]
    [InlineData(Db.Sqlite, 403, "Unauthorized access. 'Send' claim(s) are required to perform this operation.")]
    [InlineData(Db.Postgres, 403, "Unauthorized access. 'Send' claim(s) are required to perform this operation.")]
    [InlineData(Db.Sqlite, 410, "The messaging entity has been deleted.")]
    [InlineData(Db.Postgres, 410, "The messaging entity has been deleted.")]
    public async Task Configuration_failures_hold_events_pending_report_not_ready_and_publish_once_fixed(Db db, int code, string detail)
    {
        await using var broker = await FakeServiceBusServer.StartAsync();
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionString);
            s["Relay:MaxAttempts"] = "1000";
        });
        using var client = app.Client();
        using var admin = app.Admin();
        broker.FailUntilCleared(FakeServiceBusFault.Status(code, detail));

        var jobs = await RelayKit.SubmitJobsAsync(client, kie: 2);
        await RelayKit.WaitForJobsToFinishAsync(client, jobs);
        var committed = await RelayKit.FeedAsync(client);

        var held = await RelayKit.WaitForEventsAsync(
            admin,
            all => all.Count == committed.Count && all.All(e => e.Status == "pending" && e.Attempts >= 1),
            "every event to have been refused and still be pending");
        Assert.All(held, e =>
        {
            // An event whose job's earlier event was refused is not sent at all, and says why.
            Assert.StartsWith("Configuration: ", e.LastError, StringComparison.Ordinal);
            Assert.Contains($"Service Bus answered {code}", e.LastError, StringComparison.Ordinal);
            Assert.Contains(detail, e.LastError, StringComparison.Ordinal);
        });
        Assert.Empty(broker.Messages);

        var (status, ready) = await RelayKit.ReadyAsync(client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("not ready", ready.GetProperty("status").GetString());
        Assert.True(ready.GetProperty("storeReachable").GetBoolean());
        Assert.Equal("ServiceBus", ready.GetProperty("bus").GetString());
        var problem = ready.GetProperty("busProblem").GetString();
        Assert.NotNull(problem);
        Assert.Contains($"Service Bus answered {code}", problem, StringComparison.Ordinal);
        Assert.Contains(detail, problem, StringComparison.Ordinal);

        broker.ClearFaults();

        await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        (status, ready) = await RelayKit.ReadyAsync(client);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ready.GetProperty("busProblem").ValueKind);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_wrong_key_is_refused_by_the_broker_and_events_publish_after_restarting_with_the_right_one(Db db)
    {
        using var database = await SharedDatabase.CreateAsync(db);
        await using var broker = await FakeServiceBusServer.StartAsync();
        var wrongKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        List<System.Text.Json.JsonElement> committed;
        await using (var misconfigured = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionStringWithKey(wrongKey));
            s["Relay:MaxAttempts"] = "1000";
        }, connectionString: database.ConnectionString))
        {
            using var client = misconfigured.Client();
            var jobs = await RelayKit.SubmitJobsAsync(client, kie: 2);
            await RelayKit.WaitForJobsToFinishAsync(client, jobs);
            committed = await RelayKit.FeedAsync(client);
            var held = await RelayKit.WaitForEventsAsync(
                misconfigured.Admin(),
                all => all.Count == committed.Count && all.All(e => e.Status == "pending" && e.Attempts >= 1),
                "every event to have been refused and still be pending");
            Assert.All(held, e => Assert.StartsWith("Configuration: ", e.LastError, StringComparison.Ordinal));
            Assert.All(held, e => Assert.Contains("Service Bus answered 401", e.LastError, StringComparison.Ordinal));
            Assert.All(held, e => Assert.DoesNotContain(wrongKey, e.LastError, StringComparison.Ordinal));
            var (status, ready) = await RelayKit.ReadyAsync(client);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("InvalidSignature", ready.GetProperty("busProblem").GetString(), StringComparison.Ordinal);
        }

        Assert.Empty(broker.Messages);
        Assert.Contains(broker.Requests, r => r.StatusCode == 401);

        await using var fixedApp = await TestApp.StartAsync(db, s => s.UseServiceBus(broker.ConnectionString), connectionString: database.ConnectionString);
        using var admin = fixedApp.Admin();
        await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        var (fixedStatus, _) = await RelayKit.ReadyAsync(fixedApp.Client());
        Assert.Equal(HttpStatusCode.OK, fixedStatus);
    }

    [Theory]
    [InlineData(Db.Sqlite, "service")]
    [InlineData(Db.Postgres, "service")]
    [InlineData(Db.Sqlite, "broker")]
    [InlineData(Db.Postgres, "broker")]
    public async Task An_over_size_event_fails_at_once_with_a_clear_error_and_others_are_unaffected(Db db, string limitedBy)
    {
        const int limit = 2048;
        await using var broker = await FakeServiceBusServer.StartAsync(o =>
        {
            if (limitedBy == "broker")
            {
                o.MaxMessageBytes = limit;
            }
        });
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionString);
            if (limitedBy == "service")
            {
                s["Bus:ServiceBus:MaxMessageBytes"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        });
        using var client = app.Client();
        using var admin = app.Admin();

        var small = await RelayKit.SubmitJobsAsync(client, kie: 2, apiframe: 1);
        // 4 x 500 characters of metadata ride in every event of this job: each is well over the limit.
        var bulky = Enumerable.Range(0, 4).ToDictionary(i => $"note{i}", i => new string((char)('a' + i), 500));
        var big = Assert.Single(await RelayKit.SubmitJobsAsync(client, kie: 1, metadata: bulky));
        await RelayKit.WaitForJobsToFinishAsync(client, [.. small, big]);
        var committed = await RelayKit.FeedAsync(client);
        var bigEvents = committed.Where(e => e.GetProperty("subject").GetString() == big).ToList();
        Assert.True(bigEvents.Count >= 2);

        var settled = await RelayKit.WaitForEventsAsync(
            admin,
            all => all.Count == committed.Count && all.All(e => e.Status == (e.JobId == big ? "failed" : "published")),
            "the big job's events to be failed and every other event published");

        Assert.All(settled.Where(e => e.JobId == big), e =>
        {
            Assert.Equal(1, e.Attempts);
            Assert.StartsWith("Permanent: ", e.LastError, StringComparison.Ordinal);
            Assert.Contains(limitedBy == "service" ? $"the limit is {limit}" : $"exceeds the limit ({limit} bytes)", e.LastError, StringComparison.Ordinal);
        });
        var failed = await RelayKit.AdminEventsAsync(admin, "failed");
        Assert.Equal(bigEvents.Select(e => e.GetProperty("id").GetString()), failed.Select(e => e.EventId));

        var delivered = committed.Where(e => e.GetProperty("subject").GetString() != big).ToList();
        RelayKit.AssertEachDeliveredOnce(broker, delivered);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.All(settled.Where(e => e.JobId != big), e => Assert.Equal(1, e.Attempts));
        if (limitedBy == "service")
        {
            // Never sent: the service knew the broker could not take it.
            Assert.All(broker.Requests, r => Assert.Equal(201, r.StatusCode));
        }

        // Not a bus problem: the instance stays ready.
        var (status, _) = await RelayKit.ReadyAsync(client);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Events_fail_after_max_attempts_keeping_the_last_error_and_replay_publishes_them(Db db)
    {
        await using var broker = await FakeServiceBusServer.StartAsync();
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionString);
            s["Relay:MaxAttempts"] = "3";
        });
        using var client = app.Client();
        using var admin = app.Admin();
        broker.FailUntilCleared(FakeServiceBusFault.Status(500, "Internal error (injected)."));

        var jobs = await RelayKit.SubmitJobsAsync(client, kie: 2, apiframe: 1);
        await RelayKit.WaitForJobsToFinishAsync(client, jobs);
        var committed = await RelayKit.FeedAsync(client);

        await RelayKit.WaitForEventsAsync(
            admin,
            all => all.Count == committed.Count && all.All(e => e.Status == "failed"),
            "every event to be failed");
        var failed = await RelayKit.AdminEventsAsync(admin, "failed");
        Assert.Equal(committed.Select(e => e.GetProperty("id").GetString()), failed.Select(e => e.EventId));
        Assert.All(failed, e =>
        {
            Assert.Equal(3, e.Attempts);
            Assert.StartsWith("Transient: ", e.LastError, StringComparison.Ordinal);
            Assert.Contains("Service Bus answered 500", e.LastError, StringComparison.Ordinal);
            Assert.Contains("Internal error (injected).", e.LastError, StringComparison.Ordinal);
            Assert.Null(e.NextAttemptAt); // nothing scheduled: it waits for an operator
        });
        Assert.Empty(await RelayKit.AdminEventsAsync(admin, "pending"));
        Assert.Empty(broker.Messages);

        // The operator fixes the broker and replays them.
        broker.ClearFaults();
        using var replay = await admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed" });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(committed.Count, (await replay.JsonAsync()).GetProperty("replayed").GetInt32());

        var published = await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.All(published, e => Assert.Equal(1, e.Attempts));
    }
}
