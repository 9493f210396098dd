using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Bus.ServiceBus;

namespace VideoCallbacks.Tests.ServiceBus;

public sealed class BatchingTests
{
    [Fact]
    public async Task Events_are_split_into_batches_that_stay_under_MaxBatchBytes()
    {
        const int limit = 16 * 1024;
        await using var server = await FakeServiceBusServer.StartAsync(o => o.MaxBatchBytes = limit);
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:MaxBatchBytes"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var events = TestEvents.Many(40, padding: 900);

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.Equal(events.Select(e => PublishResult.Ok(e.EventId)), results);
        Assert.True(server.Requests.Count > 1, "expected several batches");
        Assert.All(server.Requests, r =>
        {
            Assert.Equal(201, r.StatusCode);
            Assert.Equal(FakeServiceBusServer.BatchContentType, r.ContentType);
            Assert.InRange(r.BodyBytes, 1, limit);
        });
        Assert.Equal(events.Select(e => e.EventId), server.Messages.Select(m => m.MessageId));
    }

    [Fact]
    public void Batches_are_full_before_a_new_one_starts()
    {
        const int limit = 16 * 1024;
        using var services = PublisherServices(new ServiceBusOptions { MaxBatchBytes = limit });
        var publisher = services.GetRequiredService<ServiceBusRestPublisher>();
        var messages = TestEvents.Many(60, padding: 700).Select(ServiceBusWireMessage.Create).ToList();

        var units = publisher.PlanBatches(messages);

        Assert.Equal(messages, units.SelectMany(u => u));
        for (var i = 0; i < units.Count; i++)
        {
            var cost = Cost(units[i]);
            Assert.InRange(cost, 0, limit);
            // Honest measure: the bytes on the wire, plus headroom, never more than the limit.
            Assert.True(ServiceBusRestPublisher.BuildBatchBody(units[i]).Length <= cost);
            if (i < units.Count - 1)
            {
                Assert.True(Cost([.. units[i], units[i + 1][0]]) > limit, $"batch {i} had room for the next message");
            }
        }
    }

    [Fact]
    public void MaxBatchMessages_caps_a_batch_of_small_events()
    {
        using var services = PublisherServices(new ServiceBusOptions { MaxBatchMessages = 4 });
        var publisher = services.GetRequiredService<ServiceBusRestPublisher>();

        var units = publisher.PlanBatches(TestEvents.Many(10).Select(ServiceBusWireMessage.Create).ToList());

        Assert.Equal([4, 4, 2], units.Select(u => u.Count));
    }

    [Fact]
    public async Task Over_size_event_fails_permanently_at_once_and_is_never_sent()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:MaxMessageBytes"] = "8192");
        var huge = TestEvents.Create("job-1", 2, padding: 20_000);
        List<OutgoingEvent> events = [TestEvents.Create("job-1", 1), huge, TestEvents.Create("job-1", 3)];

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.True(results[0].Published);
        Assert.True(results[2].Published);
        var failed = results[1];
        Assert.Equal(huge.EventId, failed.EventId);
        Assert.False(failed.Published);
        Assert.Equal(PublishFailureKind.Permanent, failed.Failure);
        Assert.Matches($"^event {System.Text.RegularExpressions.Regex.Escape(huge.EventId)} is 2[0-9]{{4}} bytes; the limit is 8192$", failed.Error);
        Assert.DoesNotContain(server.Requests, r => r.MessageIds.Contains(huge.EventId));
        Assert.Equal([events[0].EventId, events[2].EventId], server.Messages.Select(m => m.MessageId));
    }

    [Fact]
    public async Task Over_size_event_alone_sends_nothing_at_all()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:MaxMessageBytes"] = "4096");

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("job-1", 1, padding: 5000)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Permanent, result.Failure);
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData(403)]
    [InlineData(413)]
    [InlineData(400)]
    public async Task Batch_refused_as_too_large_falls_back_to_single_sends(int sizeStatus)
    {
        // The broker's real limit is lower than the configured MaxBatchBytes (e.g. premium configured on standard tier).
        await using var server = await FakeServiceBusServer.StartAsync(o =>
        {
            o.MaxBatchBytes = 8 * 1024;
            o.SizeLimitStatusCode = sizeStatus;
        });
        await using var host = PublisherHost.For(server);
        var events = TestEvents.Many(20, padding: 800);

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.Equal(events.Select(e => PublishResult.Ok(e.EventId)), results);
        var requests = server.Requests;
        Assert.Equal(sizeStatus, requests[0].StatusCode);
        Assert.Equal(FakeServiceBusServer.BatchContentType, requests[0].ContentType);
        Assert.Equal(events.Count, requests.Skip(1).Count(r => r.StatusCode == 201 && r.ContentType!.StartsWith("application/cloudevents+json", StringComparison.Ordinal)));
        Assert.Equal(events.Select(e => e.EventId).Order(StringComparer.Ordinal), server.Messages.Select(m => m.MessageId!).Order(StringComparer.Ordinal));
        // Each job's events still arrive in order.
        foreach (var job in events.GroupBy(e => e.JobId))
        {
            Assert.Equal(job.Select(e => e.EventId), server.Messages.Where(m => m.BrokerProperties["SessionId"] == job.Key).Select(m => m.MessageId));
        }
    }

    [Fact]
    public async Task Broker_refusing_one_event_of_a_batch_fails_only_that_event()
    {
        await using var server = await FakeServiceBusServer.StartAsync(o => o.MaxMessageBytes = 6000);
        await using var host = PublisherHost.For(server);
        // Under our MaxMessageBytes (256 KiB) but over the broker's: only that event can fail.
        List<OutgoingEvent> events = [TestEvents.Create("job-1", 1), TestEvents.Create("job-2", 2, padding: 8000), TestEvents.Create("job-1", 3)];

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.True(results[0].Published);
        Assert.Equal(PublishFailureKind.Permanent, results[1].Failure);
        Assert.Contains("exceeds the limit", results[1].Error, StringComparison.Ordinal);
        Assert.True(results[2].Published);
    }

    [Fact]
    public async Task Individual_mode_keeps_each_jobs_order_while_sending_jobs_in_parallel()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s =>
        {
            s["Bus:ServiceBus:SendMode"] = "Individual";
            s["Bus:ServiceBus:MaxConcurrentSends"] = "4";
        });
        var events = TestEvents.Many(30, jobs: 5);

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.Equal(events.Select(e => PublishResult.Ok(e.EventId)), results);
        Assert.Equal(30, server.Requests.Count);
        foreach (var job in events.GroupBy(e => e.JobId))
        {
            Assert.Equal(job.Select(e => e.EventId), server.Messages.Where(m => m.BrokerProperties["SessionId"] == job.Key).Select(m => m.MessageId));
        }
    }

    private static long Cost(IReadOnlyCollection<ServiceBusWireMessage> batch) =>
        ServiceBusRestPublisher.BatchEnvelopeOverheadBytes + 2
        + batch.Sum(m => (long)m.BatchEntry.Length + 1 + ServiceBusRestPublisher.PerMessageOverheadBytes);

    private static ServiceProvider PublisherServices(ServiceBusOptions options)
    {
        options.ConnectionString = "Endpoint=http://127.0.0.1:9/;SharedAccessKeyName=k;SharedAccessKey=v";
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHttpClient();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<IServiceBusTokenProvider>(new SasTokenProvider(ServiceBusConnectionString.Parse(options.ConnectionString), "http://127.0.0.1:9/video-extensions", TimeProvider.System, TimeSpan.FromHours(1), TimeSpan.FromMinutes(5)));
        services.AddSingleton<ServiceBusRestPublisher>();
        return services.BuildServiceProvider();
    }
}
