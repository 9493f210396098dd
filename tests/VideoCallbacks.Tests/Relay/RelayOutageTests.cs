namespace VideoCallbacks.Tests.Relay;

public enum Outage
{
    /// <summary>The broker answers ServerBusy until the fault is cleared.</summary>
    ServerBusy,

    /// <summary>The broker is stopped (connections dropped, nothing listening) and restarted on the same port.</summary>
    StoppedAndRestarted,

    /// <summary>The broker stores its next transfers, then drops the connection before answering: in-doubt sends.</summary>
    ConnectionsDroppedAfterStoring,
}

/// <summary>The broker goes away for a while and comes back: nothing is lost and nothing reaches subscribers twice.</summary>
public sealed class RelayOutageTests
{
    private const int DroppedTransfers = 4;

    [Theory]
    [InlineData(Db.Sqlite, Outage.ServerBusy)]
    [InlineData(Db.Postgres, Outage.ServerBusy)]
    [InlineData(Db.Sqlite, Outage.StoppedAndRestarted)]
    [InlineData(Db.Postgres, Outage.StoppedAndRestarted)]
    [InlineData(Db.Sqlite, Outage.ConnectionsDroppedAfterStoring)]
    [InlineData(Db.Postgres, Outage.ConnectionsDroppedAfterStoring)]
    public async Task Broker_down_for_a_while_then_back_delivers_every_event_exactly_once(Db db, Outage outage)
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(broker.ConnectionString);
            // The outage may last any number of attempts: this test is about what happens when it ends.
            s["Relay:MaxAttempts"] = "1000";
            if (outage == Outage.ConnectionsDroppedAfterStoring)
            {
                // Small claims, so the dropped connections meet several sends. (Not under ServerBusy: the SDK
                // then holds every send for 10 s, and small claims would take minutes to fail everything twice.)
                s["Relay:BatchSize"] = "4";
            }
        });
        using var client = app.Api();

        // Before: the broker works.
        var before = await RelayKit.SubmitJobsAsync(client, kie: 2, apiframe: 1);
        await client.WaitForJobsAsync(before);
        var committedBefore = await client.FeedAsync();
        await client.WaitUntilPublishedAsync(committedBefore.Count);

        // Down.
        switch (outage)
        {
            case Outage.ServerBusy:
                broker.FailUntilCleared(BrokerFault.ServerBusy);
                break;
            case Outage.StoppedAndRestarted:
                await broker.StopAsync();
                break;
            case Outage.ConnectionsDroppedAfterStoring:
                broker.FailNext(BrokerFault.DropAfterStore, DroppedTransfers);
                break;
        }

        // Load while it is down: callbacks keep committing events.
        var during = await RelayKit.SubmitJobsAsync(client, kie: 6, apiframe: 3);
        await client.WaitForJobsAsync(during);
        var committed = await client.FeedAsync();
        Assert.True(committed.Count > committedBefore.Count);

        if (outage != Outage.ConnectionsDroppedAfterStoring)
        {
            // Every new event has failed and been retried while the broker was away; none gave up or got through.
            var newIds = committed.Skip(committedBefore.Count).Select(e => e.GetProperty("id").GetString()).ToHashSet();
            var down = await client.WaitForAdminEventsAsync(all => all.Where(e => newIds.Contains(e.EventId)).All(e => e.Status == "pending" && e.Attempts >= 2),
                "every event committed during the outage to have failed at least twice");
            Assert.All(down.Where(e => newIds.Contains(e.EventId)), e => Assert.StartsWith("Transient: ", e.LastError, StringComparison.Ordinal));
            Assert.Equal(committedBefore.Count, broker.Messages.Count);

            // Back.
            broker.ClearFaults();
            if (outage == Outage.StoppedAndRestarted)
            {
                await broker.RestartAsync();
            }
        }

        var published = await client.WaitUntilPublishedAsync(committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.Contains(published, e => e.Attempts > 1);
        Assert.All(published, e => Assert.Null(e.LastError));

        var failedTransfers = broker.Transfers.Count(t => !t.Accepted);
        switch (outage)
        {
            case Outage.ServerBusy:
                Assert.True(failedTransfers >= 2, $"the broker answered busy only {failedTransfers} times");
                break;
            case Outage.StoppedAndRestarted:
                Assert.Equal(0, failedTransfers); // nothing reached a stopped broker
                Assert.True(broker.ConnectionsAccepted >= 2, "the sender reconnected after the restart");
                break;
            case Outage.ConnectionsDroppedAfterStoring:
                Assert.Equal(DroppedTransfers, broker.Transfers.Count(t => t.Outcome == "dropped-after-store"));
                // Each in-doubt send was sent again and the topic's duplicate detection dropped the copy.
                Assert.True(broker.DuplicatesDropped >= DroppedTransfers, $"{broker.DuplicatesDropped} duplicates dropped");
                break;
        }
    }
}
