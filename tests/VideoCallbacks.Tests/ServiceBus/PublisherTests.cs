using Azure.Messaging.ServiceBus;
using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.ServiceBus;

/// <summary>The publisher, wired as the service wires it, against the local AMQP broker through the real SDK.</summary>
public sealed class PublisherTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public async Task Every_field_is_mapped_per_the_contract()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker);
        var e = TestEvents.Create("job-1", 7, status: "completed", traceParent: TraceParent);

        var result = Assert.Single(await host.Publisher.PublishAsync([e], CancellationToken.None));

        Assert.True(result.Published, result.Error);
        var m = Assert.Single(broker.Messages);
        Assert.Equal(e.CloudEventJson, m.Body);
        Assert.Equal("application/cloudevents+json; charset=utf-8", m.ContentType);
        Assert.Equal(e.EventId, m.MessageId);
        Assert.Equal("order-123", m.CorrelationId);
        Assert.Equal("video.extension.completed", m.Subject);
        Assert.Equal("job-1", m.SessionId);
        Assert.Equal("video.extension.completed", m.Property("type"));
        Assert.Equal("kie", m.Property("provider"));
        Assert.Equal("completed", m.Property("status"));
        Assert.Equal(TraceParent, m.Property("traceparent"));
        Assert.Equal(TraceParent, m.Property("Diagnostic-Id"));
    }

    [Fact]
    public async Task A_null_correlation_id_is_left_out_and_text_arrives_unchanged()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker);
        var e = TestEvents.Create("job-ü", 1, correlationId: null) with { CloudEventJson = """{"id":"x","note":"ünïcødé \"quoted\" & <tag> 🎬"}""" };

        Assert.True(Assert.Single(await host.Publisher.PublishAsync([e], CancellationToken.None)).Published);

        var m = Assert.Single(broker.Messages);
        Assert.Null(m.CorrelationId);
        Assert.Equal(e.CloudEventJson, m.Body);
        Assert.Equal("job-ü", m.SessionId);
    }

    [Fact]
    public async Task Nothing_to_publish_sends_nothing()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker);

        Assert.Empty(await host.Publisher.PublishAsync([], CancellationToken.None));
        Assert.Empty(broker.Transfers);
    }

    [Fact]
    public async Task Events_of_mixed_sizes_go_in_several_batches_in_order_each_message_keeping_its_own_properties()
    {
        await using var broker = await LocalServiceBus.StartAsync(o => o.MaxMessageSize = 64 * 1024);
        await using var host = PublisherHost.For(broker);
        // Sizes from a few hundred bytes to 20 KB: more than fits one 64 KB batch.
        var events = Enumerable.Range(1, 40).Select(i => TestEvents.Create($"job-{i % 4}", i, padding: i % 5 == 0 ? 20_000 : i * 10)).ToList();

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Published, r.Error));
        Assert.Equal(events.Select(e => e.EventId), results.Select(r => r.EventId));
        var transfers = broker.Transfers;
        Assert.True(transfers.Count >= 3, $"{transfers.Count} transfers");
        Assert.Contains(transfers, t => t.MessageIds.Count > 1);
        Assert.Equal(events.Select(e => e.EventId), broker.Messages.Select(m => m.MessageId));
        Assert.All(broker.Messages, m =>
        {
            var e = events.Single(x => x.EventId == m.MessageId);
            Assert.Equal("application/cloudevents+json; charset=utf-8", m.ContentType);
            Assert.Equal(e.JobId, m.SessionId);
            Assert.Equal(e.Status, m.Property("status"));
            Assert.Equal(e.CloudEventJson, m.Body);
        });
    }

    [Fact]
    public async Task An_event_too_big_for_the_topic_fails_permanently_at_once_unsent_and_the_others_go()
    {
        await using var broker = await LocalServiceBus.StartAsync(o => o.MaxMessageSize = 8 * 1024);
        await using var host = PublisherHost.For(broker);
        List<OutgoingEvent> events = [TestEvents.Create("a", 1), TestEvents.Create("b", 2, padding: 20_000), TestEvents.Create("a", 3), TestEvents.Create("c", 4)];

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.False(results[1].Published);
        Assert.Equal(PublishFailureKind.Permanent, results[1].Failure);
        Assert.Contains("MessageSizeExceeded", results[1].Error, StringComparison.Ordinal);
        Assert.Contains("8192 bytes", results[1].Error, StringComparison.Ordinal);
        Assert.True(results[0].Published && results[2].Published && results[3].Published);
        Assert.Equal([events[0].EventId, events[2].EventId, events[3].EventId], broker.Messages.Select(m => m.MessageId));
        Assert.DoesNotContain(broker.Transfers, t => t.MessageIds.Contains(events[1].EventId));
    }

    [Theory]
    [MemberData(nameof(RelayKit.AllFaults), MemberType = typeof(RelayKit))]
    public async Task Each_broker_fault_maps_to_its_failure_kind_and_the_rest_of_the_call_is_not_sent(BrokerFault fault, PublishFailureKind kind, string reason)
    {
        await using var broker = await LocalServiceBus.StartAsync(o => o.MaxMessageSize = 16 * 1024);
        // Only a send that is never settled needs a short try timeout; for the others a short one would let a slow
        // (loaded) machine turn the broker's answer into a client-side timeout.
        await using var host = PublisherHost.For(broker, s => s["Bus:ServiceBus:TryTimeout"] = fault == BrokerFault.NeverSettle ? "00:00:01" : "00:00:10");
        // The link is open and authorized before the fault: what is tested is the answer to a send.
        Assert.True(Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("warm", 1)], CancellationToken.None)).Published);
        broker.FailNext(fault);
        // Two batches' worth: the first batch meets the fault, the second must not be sent.
        var events = Enumerable.Range(2, 12).Select(i => TestEvents.Create($"job-{i % 3}", i, padding: 3_000)).ToList();

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.All(results, r =>
        {
            Assert.False(r.Published);
            Assert.Equal(kind, r.Failure);
            Assert.Contains(reason, r.Error, StringComparison.Ordinal);
        });
        // The broker records a refused transfer just after answering it: wait for the record, then count.
        await Wait.UntilAsync(() => Task.FromResult(broker.Transfers.Count), n => n >= 2, "the refused transfer in the broker's record");
        Assert.Equal(2, broker.Transfers.Count);
        Assert.Single(broker.Messages);

        // The fault was one transfer: a later call goes through on the same sender (after ServerBusy the SDK
        // itself holds sends back for 10 s, hence the wait).
        await Wait.UntilAsync(
            () => host.Publisher.PublishAsync(events, CancellationToken.None),
            results => results.All(r => r.Published),
            "a publish after the fault");
        Assert.Equal(events.Select(e => e.EventId), broker.Messages.Skip(1).Select(m => m.MessageId));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_on_cbs_and_is_a_configuration_failure_that_never_shows_the_key()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        var wrongKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var host = PublisherHost.For(broker, s => s["Bus:ServiceBus:ConnectionString"] = broker.ConnectionStringWithKey(wrongKey));

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Configuration, result.Failure);
        Assert.StartsWith("Unauthorized: ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(broker.Key, result.Error, StringComparison.Ordinal);
        Assert.True(broker.RefusedTokens > 0);
        Assert.Empty(broker.Transfers);
    }

    [Fact]
    public async Task An_unknown_topic_is_a_configuration_failure()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker, s => s["Bus:ServiceBus:Topic"] = "no-such-topic");

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Configuration, result.Failure);
        Assert.Contains("MessagingEntityNotFound", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_listening_is_transient()
    {
        var broker = await LocalServiceBus.StartAsync();
        await broker.StopAsync();
        await using var host = PublisherHost.For(broker);

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Transient, result.Failure);
        Assert.Contains("ServiceCommunicationProblem", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_in_doubt_send_is_sent_again_with_the_same_message_id_and_duplicate_detection_drops_it()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker);
        var events = new List<OutgoingEvent> { TestEvents.Create("a", 1), TestEvents.Create("a", 2) };
        Assert.True(Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("warm", 0)], CancellationToken.None)).Published);
        broker.FailNext(BrokerFault.DropAfterStore);

        var first = await host.Publisher.PublishAsync(events, CancellationToken.None);
        Assert.All(first, r => Assert.Equal(PublishFailureKind.Transient, r.Failure));
        var again = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.All(again, r => Assert.True(r.Published, r.Error));
        Assert.Equal(2, broker.DuplicatesDropped);
        Assert.Equal(["warm:progress:0", .. events.Select(e => e.EventId)], broker.Messages.Select(m => m.MessageId));
    }

    [Fact]
    public async Task With_an_sdk_retry_an_in_doubt_send_succeeds_in_one_call_and_the_broker_drops_the_resend()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker, s =>
        {
            s["Bus:ServiceBus:MaxRetries"] = "1";
            s["Bus:ServiceBus:RetryDelay"] = "00:00:00.050";
        });
        Assert.True(Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("warm", 0)], CancellationToken.None)).Published);
        broker.FailNext(BrokerFault.DropAfterStore);

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 1)], CancellationToken.None));

        Assert.True(result.Published, result.Error);
        Assert.Equal(1, broker.DuplicatesDropped);
        Assert.Equal(2, broker.Messages.Count);
    }

    [Fact]
    public async Task The_same_sender_publishes_again_after_the_broker_is_stopped_and_restarted_on_its_port()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker);
        Assert.True(Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 1)], CancellationToken.None)).Published);

        await broker.StopAsync();
        var down = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 2)], CancellationToken.None));
        Assert.Equal(PublishFailureKind.Transient, down.Failure);
        await broker.RestartAsync();

        var back = await Wait.UntilAsync(
            async () => Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("a", 2)], CancellationToken.None)),
            r => r.Published,
            "a publish after the restart");
        Assert.True(back.Published);
        Assert.Equal(["a:progress:1", "a:progress:2"], broker.Messages.Select(m => m.MessageId));
    }

    [Fact]
    public async Task Caller_cancellation_is_not_swallowed()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker, s => s["Bus:ServiceBus:TryTimeout"] = "00:01:00");
        Assert.True(Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("warm", 0)], CancellationToken.None)).Published);
        broker.FailUntilCleared(BrokerFault.NeverSettle);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Publisher.PublishAsync([TestEvents.Create("a", 1)], cts.Token));
    }

    [Fact]
    public async Task A_subscriber_receives_what_was_published_through_the_brokers_receive_side()
    {
        await using var broker = await LocalServiceBus.StartAsync();
        await using var host = PublisherHost.For(broker);
        var events = TestEvents.Many(5);
        Assert.All(await host.Publisher.PublishAsync(events, CancellationToken.None), r => Assert.True(r.Published, r.Error));

        await using var client = new ServiceBusClient(broker.ConnectionString);
        await using var receiver = client.CreateReceiver(broker.Topic, "all");
        var received = new List<ServiceBusReceivedMessage>();
        while (received.Count < events.Count)
        {
            var batch = await receiver.ReceiveMessagesAsync(10, TimeSpan.FromSeconds(5));
            Assert.NotEmpty(batch);
            foreach (var m in batch)
            {
                received.Add(m);
                await receiver.CompleteMessageAsync(m);
            }
        }

        Assert.Equal(events.Select(e => e.EventId), received.Select(m => m.MessageId));
        Assert.All(received, m =>
        {
            Assert.Equal("application/cloudevents+json; charset=utf-8", m.ContentType);
            Assert.Equal(m.MessageId, JsonDocument.Parse(m.Body.ToString()).RootElement.GetProperty("id").GetString());
            Assert.Equal("progress", m.ApplicationProperties["status"]);
        });
        Assert.Empty(await receiver.ReceiveMessagesAsync(1, TimeSpan.FromMilliseconds(300)));
    }
}
