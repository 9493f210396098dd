namespace VideoCallbacks.Tests.ServiceBus;

public sealed class DuplicateDetectionTests
{
    [Fact]
    public async Task A_resent_event_is_accepted_but_dropped_by_duplicate_detection()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        var events = TestEvents.Many(3);

        var first = await host.Publisher.PublishAsync(events, CancellationToken.None);
        var again = await host.Publisher.PublishAsync([events[1]], CancellationToken.None);

        Assert.All(first, r => Assert.True(r.Published));
        Assert.True(Assert.Single(again).Published);
        Assert.Equal(3, server.Messages.Count);
        Assert.Equal(1, server.DuplicatesDropped);
        Assert.All(server.Requests, r => Assert.Equal(201, r.StatusCode));
    }

    [Fact]
    public async Task After_the_window_the_same_message_id_is_enqueued_again()
    {
        var clock = new ManualTimeProvider();
        await using var server = await FakeServiceBusServer.StartAsync(o =>
        {
            o.TimeProvider = clock;
            o.DuplicateDetectionWindow = TimeSpan.FromMinutes(10);
        });
        await using var host = PublisherHost.For(server, time: clock);
        var e = TestEvents.Create("job-1", 1);

        await host.Publisher.PublishAsync([e], CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(11));
        await host.Publisher.PublishAsync([e], CancellationToken.None);

        Assert.Equal(2, server.Messages.Count);
        Assert.Equal(0, server.DuplicatesDropped);
    }
}
