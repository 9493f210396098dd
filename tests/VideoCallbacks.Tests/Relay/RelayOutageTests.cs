using System.Globalization;
using VideoCallbacks.Tests.Infrastructure;
using VideoCallbacks.Tests.ServiceBus;

namespace VideoCallbacks.Tests.Relay;

public enum Outage
{
    /// <summary>The broker answers 503 Service Unavailable until the fault is cleared.</summary>
    ServiceUnavailable,

    /// <summary>Nothing listens on the broker's port until it comes back: connection refused.</summary>
    ConnectionRefused,

    /// <summary>The broker drops the connection of its next requests without answering.</summary>
    ConnectionsDropped,
}

/// <summary>The broker goes away for a while and comes back: nothing is lost and nothing reaches subscribers twice.</summary>
public sealed class RelayOutageTests
{
    private const int DroppedRequests = 12;

    [Theory]
    [InlineData(Db.Sqlite, Outage.ServiceUnavailable)]
    [InlineData(Db.Postgres, Outage.ServiceUnavailable)]
    [InlineData(Db.Sqlite, Outage.ConnectionRefused)]
    [InlineData(Db.Postgres, Outage.ConnectionRefused)]
    [InlineData(Db.Sqlite, Outage.ConnectionsDropped)]
    [InlineData(Db.Postgres, Outage.ConnectionsDropped)]
    public async Task Broker_down_for_a_while_then_back_delivers_every_event_exactly_once(Db db, Outage outage)
    {
        await using var broker = await FakeServiceBusServer.StartAsync();
        // The service reaches the broker through a proxy that can refuse connections and then take them again.
        await using var proxy = TcpProxy.Start(broker.BaseAddress.Port);
        var connectionString = string.Create(CultureInfo.InvariantCulture,
            $"Endpoint=http://127.0.0.1:{proxy.Port}/;SharedAccessKeyName={broker.KeyName};SharedAccessKey={broker.Key}");
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.UseServiceBus(connectionString);
            // The outage may last any number of attempts: this test is about what happens when it ends.
            s["Relay:MaxAttempts"] = "1000";
        });
        using var client = app.Client();
        using var admin = app.Admin();

        // Before: the broker works.
        var before = await RelayKit.SubmitJobsAsync(client, kie: 2, apiframe: 1);
        await RelayKit.WaitForJobsToFinishAsync(client, before);
        var committedBefore = await RelayKit.FeedAsync(client);
        await RelayKit.WaitUntilPublishedAsync(admin, committedBefore.Count);

        // Down.
        switch (outage)
        {
            case Outage.ServiceUnavailable:
                broker.FailUntilCleared(FakeServiceBusFault.Status(503, "The server is busy (injected)."));
                break;
            case Outage.ConnectionRefused:
                await proxy.CloseAsync();
                break;
            case Outage.ConnectionsDropped:
                broker.FailNext(FakeServiceBusFault.Abort, DroppedRequests);
                break;
        }

        var during = await RelayKit.SubmitJobsAsync(client, kie: 3, apiframe: 2);
        await RelayKit.WaitForJobsToFinishAsync(client, during);
        var committed = await RelayKit.FeedAsync(client);
        Assert.True(committed.Count > committedBefore.Count);

        if (outage != Outage.ConnectionsDropped)
        {
            // Every new event has failed and been retried while the broker was away; none gave up or got through.
            var newIds = committed.Skip(committedBefore.Count).Select(e => e.GetProperty("id").GetString()).ToHashSet();
            var down = await RelayKit.WaitForEventsAsync(
                admin,
                all => all.Where(e => newIds.Contains(e.EventId)).All(e => e.Status == "pending" && e.Attempts >= 2),
                "every event committed during the outage to have failed at least twice");
            Assert.All(down.Where(e => newIds.Contains(e.EventId)), e => Assert.StartsWith("Transient: ", e.LastError, StringComparison.Ordinal));
            Assert.Equal(committedBefore.Count, broker.Messages.Count);

            // Back.
            broker.ClearFaults();
            proxy.Open();
        }

        var published = await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.Contains(published, e => e.Attempts > 1);
        Assert.All(published, e => Assert.Null(e.LastError));

        var failedRequests = broker.Requests.Count(r => r.StatusCode != 201);
        switch (outage)
        {
            case Outage.ServiceUnavailable:
                Assert.True(failedRequests >= 2, $"the broker answered 503 only {failedRequests} times");
                break;
            case Outage.ConnectionRefused:
                Assert.Equal(0, failedRequests); // refused connections never reach the broker
                break;
            case Outage.ConnectionsDropped:
                Assert.Equal(DroppedRequests, failedRequests);
                break;
        }
    }
}
