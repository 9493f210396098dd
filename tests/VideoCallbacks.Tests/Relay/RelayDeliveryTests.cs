namespace VideoCallbacks.Tests.Relay;

/// <summary>The relay takes every committed event to the Service Bus topic, mapped per the contract.</summary>
public sealed class RelayDeliveryTests
{
    [Theory, BothDatabases]
    public async Task Every_event_of_several_jobs_reaches_the_topic_once_in_job_order_mapped_per_contract(Db db)
    {
        await using var bus = await BusApp.StartAsync(db);

        var (jobs, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 3, apiframe: 2);
        var published = await bus.Api.WaitUntilPublishedAsync(committed.Count);

        // Kie: submitted + completed; Apiframe: submitted, progress..., completed.
        Assert.All(jobs, job => Assert.True(committed.Count(e => e.GetProperty("subject").GetString() == job) >= 2));
        Assert.Contains(committed, e => e.GetProperty("type").GetString() == "video.extension.progress");
        RelayKit.AssertEachDeliveredOnce(bus.Broker, committed);
        Assert.Equal(0, bus.Broker.DuplicatesDropped);
        RelayKit.AssertPerJobOrder(bus.Broker.Messages);

        foreach (var cloudEvent in committed)
        {
            var id = cloudEvent.GetProperty("id").GetString()!;
            var message = Assert.Single(bus.Broker.Messages, m => m.MessageId == id);
            var data = cloudEvent.GetProperty("data");
            RelayKit.AssertSameJson(cloudEvent, message.Body);
            Assert.Equal("application/cloudevents+json; charset=utf-8", message.ContentType);
            Assert.Equal("video-extensions", message.Topic);
            Assert.Equal(data.GetProperty("jobId").GetString(), message.SessionId);
            Assert.Equal(cloudEvent.GetProperty("subject").GetString(), message.SessionId);
            Assert.Equal(cloudEvent.GetProperty("type").GetString(), message.Subject);
            Assert.Equal(data.GetProperty("correlationId").GetString(), message.CorrelationId);
            Assert.Equal(cloudEvent.GetProperty("type").GetString(), message.Property("type"));
            Assert.Equal(data.GetProperty("provider").GetString(), message.Property("provider"));
            Assert.Equal(data.GetProperty("status").GetString(), message.Property("status"));
            // Every event was caused by a traced request (a submission or a callback) and carries its trace.
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", message.Property("traceparent"));
            Assert.Equal(message.Property("traceparent"), message.Property("Diagnostic-Id"));
        }

        Assert.All(published, e =>
        {
            Assert.Equal(1, e.Attempts);
            Assert.Null(e.LastError);
            Assert.NotNull(e.PublishedAt);
        });
        var publishedOnly = await bus.Api.AdminEventsAsync("status=published");
        Assert.Equal(committed.Select(e => e.GetProperty("id").GetString()), publishedOnly.Select(e => e.EventId));
        Assert.Empty(await bus.Api.AdminEventsAsync("status=pending"));
    }

    [Theory, BothDatabases]
    public async Task Events_leave_on_the_commit_signal_alone_with_the_poll_timer_five_minutes_away(Db db)
    {
        // With the timer this far away, every event must be carried by a wake-up: a wake-up lost while the relay
        // claims (a commit landing mid-claim), or a job's next event held back behind its predecessor's claim,
        // would leave an event pending for five minutes and fail this test.
        await using var bus = await BusApp.StartAsync(db, s => s["Relay:PollInterval"] = "00:05:00");

        var (_, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 4, apiframe: 4);
        await bus.Api.WaitUntilPublishedAsync(committed.Count);

        RelayKit.AssertEachDeliveredOnce(bus.Broker, committed);
        RelayKit.AssertPerJobOrder(bus.Broker.Messages);
    }
}
