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
[StartsFirst]
public sealed class RelayOutageTests
{
    private const int DroppedTransfers = 4;

    [Theory, EachOnBothDatabases(Outage.ServerBusy, Outage.StoppedAndRestarted, Outage.ConnectionsDroppedAfterStoring)]
    public async Task Broker_down_for_a_while_then_back_delivers_every_event_exactly_once(Db db, Outage outage)
    {
        await using var bus = await BusApp.StartAsync(db, s =>
        {
            // The outage may last any number of attempts: this test is about what happens when it ends.
            s["Relay:MaxAttempts"] = "1000";
            if (outage == Outage.ConnectionsDroppedAfterStoring)
            {
                // Small claims, so the dropped connections meet several sends. (Not under ServerBusy: the SDK
                // then holds every send for 10 s, and small claims would take minutes to fail everything twice.)
                s["Relay:BatchSize"] = "4";
            }
            if (outage == Outage.ServerBusy)
            {
                // Under ServerBusy the SDK holds each send for up to the try timeout: keep it short, so every event
                // fails twice well within the wait below.
                s["Bus:ServiceBus:TryTimeout"] = "00:00:05";
            }
        });

        // Before: the broker works.
        var (before, committedBefore) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 2, apiframe: 1);
        await bus.Api.WaitUntilPublishedAsync(committedBefore.Count);

        // Down.
        switch (outage)
        {
            case Outage.ServerBusy:
                bus.Broker.FailUntilCleared(BrokerFault.ServerBusy);
                break;
            case Outage.StoppedAndRestarted:
                await bus.Broker.StopAsync();
                break;
            case Outage.ConnectionsDroppedAfterStoring:
                bus.Broker.FailNext(BrokerFault.DropAfterStore, DroppedTransfers);
                break;
        }

        // Load while it is down: callbacks keep committing events.
        var (during, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 6, apiframe: 3);
        Assert.True(committed.Count > committedBefore.Count);

        if (outage != Outage.ConnectionsDroppedAfterStoring)
        {
            // Every new event has failed and been retried while the broker was away; none gave up or got through.
            var newIds = committed.Skip(committedBefore.Count).Select(e => e.GetProperty("id").GetString()).ToHashSet();
            var down = await bus.Api.WaitForAdminEventsAsync(all => all.Where(e => newIds.Contains(e.EventId)).All(e => e.Status == "pending" && e.Attempts >= 2),
                "every event committed during the outage to have failed at least twice");
            Assert.All(down.Where(e => newIds.Contains(e.EventId)), e => Assert.StartsWith("Transient: ", e.LastError, StringComparison.Ordinal));
            Assert.Equal(committedBefore.Count, bus.Broker.Messages.Count);

            // Back.
            bus.Broker.ClearFaults();
            if (outage == Outage.StoppedAndRestarted)
            {
                await bus.Broker.RestartAsync();
            }
        }

        var published = await bus.Api.WaitUntilPublishedAsync(committed.Count);
        RelayKit.AssertEachDeliveredOnce(bus.Broker, committed);
        RelayKit.AssertPerJobOrder(bus.Broker.Messages);
        Assert.Contains(published, e => e.Attempts > 1);
        Assert.All(published, e => Assert.Null(e.LastError));

        var failedTransfers = bus.Broker.Transfers.Count(t => !t.Accepted);
        switch (outage)
        {
            case Outage.ServerBusy:
                Assert.True(failedTransfers >= 2, $"the broker answered busy only {failedTransfers} times");
                break;
            case Outage.StoppedAndRestarted:
                Assert.Equal(0, failedTransfers); // nothing reached a stopped broker
                Assert.True(bus.Broker.ConnectionsAccepted >= 2, "the sender reconnected after the restart");
                break;
            case Outage.ConnectionsDroppedAfterStoring:
                Assert.Equal(DroppedTransfers, bus.Broker.Transfers.Count(t => t.Outcome == "dropped-after-store"));
                // Each in-doubt send was sent again and the topic's duplicate detection dropped the copy.
                Assert.True(bus.Broker.DuplicatesDropped >= DroppedTransfers, $"{bus.Broker.DuplicatesDropped} duplicates dropped");
                break;
        }
    }
}
