using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.ServiceBus;

/// <summary>Broker failures come back as results of the right kind, never as exceptions.</summary>
public sealed class FailureClassificationTests
{
    public static TheoryData<int, PublishFailureKind, string> StatusCases()
    {
        var data = new TheoryData<int, PublishFailureKind, string>();
        foreach (var mode in new[] { "Batch", "Individual" })
        {
            data.Add(401, PublishFailureKind.Configuration, mode);
            data.Add(403, PublishFailureKind.Configuration, mode);
            data.Add(404, PublishFailureKind.Configuration, mode);
            data.Add(410, PublishFailureKind.Configuration, mode);
            data.Add(429, PublishFailureKind.Transient, mode);
            data.Add(500, PublishFailureKind.Transient, mode);
            data.Add(503, PublishFailureKind.Transient, mode);
            data.Add(400, PublishFailureKind.Permanent, mode);
            data.Add(409, PublishFailureKind.Permanent, mode);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(StatusCases))]
    public async Task Broker_status_maps_to_the_failure_kind(int status, PublishFailureKind expected, string mode)
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:SendMode"] = mode);
        server.FailUntilCleared(FakeServiceBusFault.Status(status));
        var events = TestEvents.Many(3, jobs: 1);

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.Equal(events.Select(e => e.EventId), results.Select(r => r.EventId));
        Assert.All(results, r =>
        {
            Assert.False(r.Published);
            Assert.Equal(expected, r.Failure);
            Assert.False(string.IsNullOrWhiteSpace(r.Error));
        });
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), results[0].Error, StringComparison.Ordinal);
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task Unknown_topic_is_a_configuration_failure()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:Topic"] = "no-such-topic");

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("job-1", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Configuration, result.Failure);
        Assert.Contains("404", result.Error, StringComparison.Ordinal);
        Assert.Equal(404, Assert.Single(server.Requests).StatusCode);
    }

    [Fact]
    public async Task Wrong_sas_key_is_a_configuration_failure_that_never_reveals_key_or_token()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        const string wrongKey = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=";
        await using var host = PublisherHost.Create(new Dictionary<string, string?>
        {
            ["Bus:ServiceBus:ConnectionString"] = server.ConnectionStringWithKey(wrongKey),
            ["Bus:ServiceBus:SendMode"] = "Batch",
        });

        var results = await host.Publisher.PublishAsync(TestEvents.Many(2), CancellationToken.None);

        Assert.All(results, r => Assert.Equal(PublishFailureKind.Configuration, r.Failure));
        var request = Assert.Single(server.Requests);
        Assert.Equal(401, request.StatusCode);
        Assert.StartsWith("InvalidSignature", request.Error, StringComparison.Ordinal);
        var signature = request.Authorization!.Split("&sig=")[1].Split('&')[0];
        Assert.All(results, r =>
        {
            Assert.DoesNotContain(wrongKey, r.Error, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, r.Error, StringComparison.Ordinal);
        });
        Assert.Empty(server.Messages);
    }

    [Fact]
    public async Task Token_like_text_in_a_broker_error_is_redacted()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        server.FailNext(FakeServiceBusFault.Status(401, "echo: SharedAccessSignature sr=x&sig=TOPSECRETsig%3d&se=1 and Bearer eyJTOPSECRET.jwt"));

        var result = Assert.Single(await host.Publisher.PublishAsync([TestEvents.Create("job-1", 1)], CancellationToken.None));

        Assert.Equal(PublishFailureKind.Configuration, result.Failure);
        Assert.DoesNotContain("TOPSECRET", result.Error, StringComparison.Ordinal);
        Assert.Contains("sig=***", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_broker_times_out_as_transient()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:SendTimeout"] = "00:00:00.300");
        server.FailUntilCleared(FakeServiceBusFault.Slow(TimeSpan.FromSeconds(30)));

        var results = await host.Publisher.PublishAsync(TestEvents.Many(2), CancellationToken.None);

        Assert.All(results, r => Assert.Equal(PublishFailureKind.Transient, r.Failure));
        Assert.Contains("within", results[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dropped_connection_is_transient()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        server.FailUntilCleared(FakeServiceBusFault.Abort);

        var results = await host.Publisher.PublishAsync(TestEvents.Many(2), CancellationToken.None);

        Assert.All(results, r => Assert.Equal(PublishFailureKind.Transient, r.Failure));
    }

    [Fact]
    public async Task Refused_connection_is_transient()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        await server.StopListeningAsync();

        var results = await host.Publisher.PublishAsync(TestEvents.Many(2), CancellationToken.None);

        Assert.All(results, r =>
        {
            Assert.Equal(PublishFailureKind.Transient, r.Failure);
            Assert.Contains("could not reach Service Bus", r.Error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_recovered_broker_accepts_the_next_call()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        server.FailNext(FakeServiceBusFault.Status(503));
        var events = TestEvents.Many(3);

        var failed = await host.Publisher.PublishAsync(events, CancellationToken.None);
        var retried = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.All(failed, r => Assert.Equal(PublishFailureKind.Transient, r.Failure));
        Assert.All(retried, r => Assert.True(r.Published));
        Assert.Equal(3, server.Messages.Count);
    }

    [Fact]
    public async Task Events_after_a_failed_batch_are_reported_failed_and_not_sent()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s => s["Bus:ServiceBus:MaxBatchMessages"] = "3");
        server.FailNext(new FakeServiceBusFault()); // first batch passes
        server.FailNext(FakeServiceBusFault.Status(503)); // second batch fails
        var events = TestEvents.Many(9);

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.Equal(events.Select(e => e.EventId), results.Select(r => r.EventId));
        Assert.All(results.Take(3), r => Assert.True(r.Published));
        Assert.All(results.Skip(3), r => Assert.Equal(PublishFailureKind.Transient, r.Failure));
        Assert.All(results.Skip(6), r => Assert.StartsWith("not sent because an earlier send in the same call failed", r.Error, StringComparison.Ordinal));
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(3, server.Messages.Count);
    }

    [Fact]
    public async Task In_individual_mode_a_transient_failure_stops_the_rest_of_the_call()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server, s =>
        {
            s["Bus:ServiceBus:SendMode"] = "Individual";
            s["Bus:ServiceBus:MaxConcurrentSends"] = "1";
        });
        server.FailNext(new FakeServiceBusFault());
        server.FailNext(FakeServiceBusFault.Status(429));
        var events = TestEvents.Many(5);

        var results = await host.Publisher.PublishAsync(events, CancellationToken.None);

        Assert.True(results[0].Published);
        Assert.All(results.Skip(1), r => Assert.Equal(PublishFailureKind.Transient, r.Failure));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_swallowed()
    {
        await using var server = await FakeServiceBusServer.StartAsync();
        await using var host = PublisherHost.For(server);
        server.FailUntilCleared(FakeServiceBusFault.Slow(TimeSpan.FromSeconds(30)));
        using var cts = new CancellationTokenSource();

        var publishing = host.Publisher.PublishAsync(TestEvents.Many(2), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publishing);
    }
}
