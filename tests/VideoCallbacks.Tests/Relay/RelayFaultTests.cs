using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>Each class of broker failure, as the relay handles it end to end (real SDK, local AMQP broker).</summary>
[StartsFirst]
public sealed class RelayFaultTests
{
    public static TheoryData<Db, BrokerFault, string> TransientFaults() => RelayKit.FaultsOnBothDatabases(PublishFailureKind.Transient);

    public static TheoryData<Db, BrokerFault, string> ConfigurationFaults() => RelayKit.FaultsOnBothDatabases(PublishFailureKind.Configuration);

    [Theory]
    [MemberData(nameof(TransientFaults))]
    public async Task Transient_failures_are_retried_with_backoff_and_published_once_the_fault_clears(Db db, BrokerFault fault, string reason)
    {
        await using var bus = await BusApp.StartAsync(db, s =>
        {
            s["Relay:MaxAttempts"] = "1000";
            // Short only where the fault is a send never settled; elsewhere it would turn slow answers into timeouts.
            s["Bus:ServiceBus:TryTimeout"] = fault == BrokerFault.NeverSettle ? "00:00:00.500" : "00:00:05";
        }, failing: fault);

        var (jobs, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 2, apiframe: 1);

        List<AdminEvent> failing;
        try
        {
            failing = await bus.Api.WaitForAdminEventsAsync(all => all.Count == committed.Count && all.All(e => e.Status == "pending" && e.Attempts >= 2),
                "every event to have failed at least twice and still be pending");
        }
        catch (WaitTimeoutException e)
        {
            // Seen once (an event marked published under a standing fault): say what the broker did with every transfer.
            throw new WaitTimeoutException(e.Message + Environment.NewLine + "broker transfers: " + string.Join("; ",
                bus.Broker.Transfers.Select(t => $"[{string.Join(",", t.MessageIds)}] {t.Outcome} on connection {t.ConnectionNumber}"))
                + $"; broker kept {bus.Broker.Messages.Count} messages");
        }
        Assert.All(failing, e =>
        {
            Assert.StartsWith("Transient: ", e.LastError, StringComparison.Ordinal);
            Assert.Contains(reason, e.LastError, StringComparison.Ordinal);
            Assert.NotNull(e.NextAttemptAt); // a retry is scheduled
        });
        Assert.Empty(bus.Broker.Messages);
        // Broker trouble that will pass does not take the instance out of service.
        var (status, ready) = await bus.Api.ReadyAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());

        bus.Broker.ClearFaults();

        var published = await bus.Api.WaitUntilPublishedAsync(committed.Count);
        RelayKit.AssertEachDeliveredOnce(bus.Broker, committed);
        RelayKit.AssertPerJobOrder(bus.Broker.Messages);
        Assert.All(published, e =>
        {
            Assert.True(e.Attempts >= 3, $"{e.EventId} published after {e.Attempts} attempts");
            Assert.Null(e.LastError);
        });
    }

    [Theory]
    [MemberData(nameof(ConfigurationFaults))]
    public async Task Configuration_failures_hold_events_pending_report_not_ready_and_publish_once_fixed(Db db, BrokerFault fault, string reason)
    {
        await using var bus = await BusApp.StartAsync(db, s => s["Relay:MaxAttempts"] = "1000", failing: fault);

        var (jobs, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 2);

        var held = await bus.Api.WaitForAdminEventsAsync(all => all.Count == committed.Count && all.All(e => e.Status == "pending" && e.Attempts >= 1),
            "every event to have been refused and still be pending");
        Assert.All(held, e =>
        {
            Assert.StartsWith("Configuration: ", e.LastError, StringComparison.Ordinal);
            Assert.Contains(reason, e.LastError, StringComparison.Ordinal);
        });
        Assert.Empty(bus.Broker.Messages);

        var (status, ready) = await bus.Api.ReadyAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("not ready", ready.GetProperty("status").GetString());
        Assert.True(ready.GetProperty("storeReachable").GetBoolean());
        Assert.Equal("ServiceBus", ready.GetProperty("bus").GetString());
        var problem = ready.GetProperty("busProblem").GetString();
        Assert.NotNull(problem);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain(bus.Broker.Key, problem, StringComparison.Ordinal);

        bus.Broker.ClearFaults();

        await bus.Api.WaitUntilPublishedAsync(committed.Count);
        RelayKit.AssertEachDeliveredOnce(bus.Broker, committed);
        RelayKit.AssertPerJobOrder(bus.Broker.Messages);
        (status, ready) = await bus.Api.ReadyAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ready.GetProperty("busProblem").ValueKind);
    }

    [Theory, BothDatabases]
    public async Task A_wrong_key_is_refused_by_the_broker_and_events_publish_after_restarting_with_the_right_one(Db db)
    {
        using var database = await SharedDatabase.CreateAsync(db);
        await using var broker = await LocalServiceBus.StartAsync();
        var wrongKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        List<System.Text.Json.JsonElement> committed;
        await using (var misconfigured = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionStringWithKey(wrongKey));
            s["Relay:MaxAttempts"] = "1000";
        }, connectionString: database.ConnectionString))
        {
            var client = misconfigured.Driver;
            var jobs = await RelayKit.SubmitJobsAsync(client, kie: 2);
            await client.WaitForJobsAsync(jobs);
            committed = await client.FeedAsync();
            var held = await misconfigured.Driver.WaitForAdminEventsAsync(all => all.Count == committed.Count && all.All(e => e.Status == "pending" && e.Attempts >= 1),
                "every event to have been refused and still be pending");
            Assert.All(held, e => Assert.StartsWith("Configuration: Unauthorized", e.LastError, StringComparison.Ordinal));
            Assert.All(held, e => Assert.DoesNotContain(wrongKey, e.LastError, StringComparison.Ordinal));
            var (status, ready) = await client.ReadyAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("Unauthorized", ready.GetProperty("busProblem").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(wrongKey, ready.GetProperty("busProblem").GetString(), StringComparison.Ordinal);
        }

        Assert.Empty(broker.Messages);
        Assert.True(broker.RefusedTokens > 0);

        await using var fixedApp = await TestApp.StartAsync(db, s => s.UseServiceBus(broker.ConnectionString), connectionString: database.ConnectionString);
        await fixedApp.Driver.WaitUntilPublishedAsync(committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        var (fixedStatus, _) = await fixedApp.Driver.ReadyAsync();
        Assert.Equal(HttpStatusCode.OK, fixedStatus);
    }

    [Theory, BothDatabases]
    public async Task An_over_size_event_fails_at_once_with_a_clear_error_and_others_are_unaffected(Db db)
    {
        // Room for a completed event with four videos (each URL appears in videoUrls and in videos[]).
        const int limit = 6144;
        await using var broker = await LocalServiceBus.StartAsync(o => o.MaxMessageSize = limit);
        await using var app = await TestApp.StartAsync(db, s => s.UseServiceBus(broker.ConnectionString));

        var small = await RelayKit.SubmitJobsAsync(app.Driver, kie: 2, apiframe: 1);
        // 16 x 500 characters of metadata ride in every event of this job: each is well over the limit.
        var bulky = Enumerable.Range(0, 16).ToDictionary(i => $"note{i}", i => new string((char)('a' + i), 500));
        var big = Assert.Single(await RelayKit.SubmitJobsAsync(app.Driver, kie: 1, metadata: bulky));
        await app.Driver.WaitForJobsAsync([.. small, big]);
        var committed = await app.Driver.FeedAsync();
        var bigEvents = committed.Where(e => e.GetProperty("subject").GetString() == big).ToList();
        Assert.True(bigEvents.Count >= 2);

        var settled = await app.Driver.WaitForAdminEventsAsync(all => all.Count == committed.Count && all.All(e => e.Status == (e.JobId == big ? "failed" : "published")),
            "the big job's events to be failed and every other event published");

        Assert.All(settled.Where(e => e.JobId == big), e =>
        {
            Assert.Equal(1, e.Attempts);
            Assert.StartsWith("Permanent: MessageSizeExceeded", e.LastError, StringComparison.Ordinal);
            Assert.Contains($"({limit} bytes)", e.LastError, StringComparison.Ordinal);
        });
        var failed = await app.Driver.AdminEventsAsync("status=failed");
        Assert.Equal(bigEvents.Select(e => e.GetProperty("id").GetString()), failed.Select(e => e.EventId));

        var delivered = committed.Where(e => e.GetProperty("subject").GetString() != big).ToList();
        RelayKit.AssertEachDeliveredOnce(broker, delivered);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.All(settled.Where(e => e.JobId != big), e => Assert.Equal(1, e.Attempts));
        // Never sent: the SDK measured it against the limit the broker advertised.
        Assert.DoesNotContain(broker.Transfers, t => t.MessageIds.Any(id => id.StartsWith(big, StringComparison.Ordinal)));

        // Not a bus problem: the instance stays ready.
        var (status, _) = await app.Driver.ReadyAsync();
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory, BothDatabases]
    public async Task Events_fail_after_max_attempts_keeping_the_last_error_and_replay_publishes_them(Db db)
    {
        await using var bus = await BusApp.StartAsync(db, s => s["Relay:MaxAttempts"] = "3", failing: BrokerFault.InternalError);

        var (jobs, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 2, apiframe: 1);

        await bus.Api.WaitForAdminEventsAsync(all => all.Count == committed.Count && all.All(e => e.Status == "failed"),
            "every event to be failed");
        var failed = await bus.Api.AdminEventsAsync("status=failed");
        Assert.Equal(committed.Select(e => e.GetProperty("id").GetString()), failed.Select(e => e.EventId));
        Assert.All(failed, e =>
        {
            Assert.Equal(3, e.Attempts);
            Assert.StartsWith("Transient: GeneralError", e.LastError, StringComparison.Ordinal);
            Assert.Null(e.NextAttemptAt); // nothing scheduled: it waits for an operator
        });
        Assert.Empty(await bus.Api.AdminEventsAsync("status=pending"));
        Assert.Empty(bus.Broker.Messages);

        // The operator fixes the broker and replays them.
        bus.Broker.ClearFaults();
        using var replay = await bus.Api.Admin.PostJsonAsync("/v1/admin/events/replay", new { status = "failed" });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(committed.Count, (await replay.JsonAsync()).GetProperty("replayed").GetInt32());

        var published = await bus.Api.WaitUntilPublishedAsync(committed.Count);
        RelayKit.AssertEachDeliveredOnce(bus.Broker, committed);
        RelayKit.AssertPerJobOrder(bus.Broker.Messages);
        Assert.All(published, e => Assert.Equal(1, e.Attempts));
    }
    [Theory, BothDatabases]
    public async Task Stopping_the_service_does_not_wait_for_a_broker_that_never_answers(Db db)
    {
        await using var broker = await LocalServiceBus.StartAsync();
        var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionString);
            // Far longer than the bound below: only cancellation can end the hung send in time.
            s["Bus:ServiceBus:TryTimeout"] = "00:05:00";
        });
        try
        {
            broker.FailUntilCleared(BrokerFault.NeverSettle);
            await RelayKit.SubmitJobsAsync(app.Driver, kie: 1);

            await Wait.UntilAsync(
                () => Task.FromResult(broker.Transfers.Count(t => t.Outcome == "never-settled")),
                n => n > 0,
                "a send hanging on the broker");
        }
        finally
        {
            var stopping = app.DisposeAsync().AsTask();
            var first = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(first == stopping, "the service was still stopping after 2 minutes with a send hanging");
            await stopping;
        }

        Assert.Empty(broker.Messages);
    }
}
