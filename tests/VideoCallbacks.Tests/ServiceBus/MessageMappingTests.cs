using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.ServiceBus;

/// <summary>Every event becomes one message with the contract's body, content type, broker and custom properties.</summary>
public sealed class MessageMappingTests
{
    private const string CloudEventsContentType = "application/cloudevents+json; charset=utf-8";

    [Fact]
    public async Task Single_send_maps_every_field()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:SendMode"] = "Individual");
        var e = TestEvents.Create("job-42", 7, status: "completed", provider: "apiframe", correlationId: "order-9");

        var result = Assert.Single(await host.Publisher.PublishAsync([e], CancellationToken.None));

        Assert.Equal(PublishResult.Ok(e.EventId), result);
        var m = Assert.Single(server.Messages);
        AssertMapped(e, m);
        Assert.Equal(CloudEventsContentType, m.ContentType);
        Assert.False(m.ViaBatch);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/video-extensions/messages", request.Path);
        Assert.StartsWith("SharedAccessSignature sr=", request.Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_send_maps_every_field_in_the_documented_batch_format()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        List<OutgoingEvent> events =
        [
            TestEvents.Create("job-1", 1, status: "submitted"),
            TestEvents.Create("job-2", 2, status: "progress", provider: "nanogpt"),
            TestEvents.Create("job-1", 3, status: "failed", correlationId: null),
        ];

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.Equal(events.Select(e => PublishResult.Ok(e.EventId)), results);
        var request = Assert.Single(server.Requests);
        Assert.Equal("application/vnd.microsoft.servicebus.json", request.ContentType);
        Assert.Equal(201, request.StatusCode);
        Assert.Equal(events.Count, server.Messages.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var m = server.Messages[i];
            AssertMapped(events[i], m);
            Assert.True(m.ViaBatch);
            // The batch format has no documented per-message content type: it is sent as
            // BrokerProperties.ContentType, which the documented broker ignores.
            Assert.Null(m.ContentType);
            Assert.Equal(CloudEventsContentType, m.IgnoredBrokerProperties["ContentType"]);
        }
    }

    [Fact]
    public async Task Null_correlation_id_is_omitted_in_a_single_send()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:SendMode"] = "Individual");
        var e = TestEvents.Create("job-1", 1, correlationId: null);

        Assert.True(Assert.Single(await host.Publisher.PublishAsync([e], CancellationToken.None)).Published);

        var m = Assert.Single(server.Messages);
        Assert.False(m.BrokerProperties.ContainsKey("CorrelationId"));
        AssertMapped(e, m);
    }

    [Fact]
    public async Task A_batch_of_one_goes_out_as_a_single_send_with_its_content_type()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        var e = TestEvents.Create("job-1", 1);

        Assert.True(Assert.Single(await host.Publisher.PublishAsync([e], CancellationToken.None)).Published);

        Assert.Equal(CloudEventsContentType, Assert.Single(server.Messages).ContentType);
    }

    [Fact]
    public async Task Nothing_to_publish_sends_nothing()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);

        Assert.Empty(await host.Publisher.PublishAsync([], CancellationToken.None));
        Assert.Empty(server.Requests);
        Assert.Equal("ServiceBus", host.Publisher.Name);
    }

    [Fact]
    public async Task Non_ascii_and_escaped_text_arrive_unchanged()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        var e = TestEvents.Create("job-1", 1, correlationId: "bestellung-übergröße \"7\"");
        e = e with { CloudEventJson = e.CloudEventJson.Replace("he said", "él dijo 日本語 😀", StringComparison.Ordinal) };

        foreach (var mode in new[] { "Individual", "Batch" })
        {
            await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:SendMode"] = mode);
            var second = e with { EventId = e.EventId + ":" + mode };
            Assert.All(await host.Publisher.PublishAsync([second, second with { EventId = second.EventId + ":b" }], CancellationToken.None), r => Assert.True(r.Published, r.Error));
        }

        Assert.All(server.Messages, m =>
        {
            Assert.Equal(e.CloudEventJson, m.Body);
            Assert.Equal(e.CorrelationId, m.BrokerProperties["CorrelationId"]);
        });
    }

    private static void AssertMapped(OutgoingEvent e, FakeServiceBusMessage m)
    {
        Assert.Equal("video-extensions", m.Topic);
        Assert.Equal(e.CloudEventJson, m.Body);
        Assert.Equal(e.EventId, m.BrokerProperties["MessageId"]);
        Assert.Equal(e.Type, m.BrokerProperties["Label"]);
        Assert.Equal(e.JobId, m.BrokerProperties["SessionId"]);
        if (e.CorrelationId is null)
        {
            Assert.False(m.BrokerProperties.ContainsKey("CorrelationId"));
        }
        else
        {
            Assert.Equal(e.CorrelationId, m.BrokerProperties["CorrelationId"]);
        }

        Assert.Equal(e.Type, m.UserProperties["type"]);
        Assert.Equal(e.Provider, m.UserProperties["provider"]);
        Assert.Equal(e.Status, m.UserProperties["status"]);
        Assert.Equal(3, m.UserProperties.Count);
    }
}
