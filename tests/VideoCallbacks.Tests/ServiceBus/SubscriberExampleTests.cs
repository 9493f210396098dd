using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Contoso.VideoConsumer;

namespace VideoCallbacks.Tests.ServiceBus;

/// <summary>The README's subscriber example, run as written against the local broker.</summary>
public sealed class SubscriberExampleTests
{
    [Theory, BothDatabases]
    public async Task The_readme_subscriber_sees_every_event_of_completed_jobs_once_in_job_order(Db db)
    {
        await using var bus = await BusApp.StartAsync(db);
        var received = new ConcurrentQueue<VideoEvent>();
        await using var serviceBus = new ServiceBusClient(bus.Broker.ConnectionString);
        await using (var subscriber = new VideoEventsSubscriber(serviceBus, bus.Broker.Topic, "all", e =>
        {
            received.Enqueue(e);
            return Task.CompletedTask;
        }))
        {
            await subscriber.StartAsync();

            var (jobs, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 2, apiframe: 2);
            await bus.Api.WaitUntilPublishedAsync(committed.Count);
            await Wait.UntilAsync(
                () => Task.FromResult(received.Count),
                n => n >= committed.Count,
                $"the subscriber to receive {committed.Count} events");

            // Delivery is at least once: a message delivered again must not reach the handler twice.
            bus.Broker.Redeliver(committed[^1].GetProperty("id").GetString()!);
            await Wait.UntilAsync(
                () => Task.FromResult(bus.Broker.Outstanding("all")),
                n => n == 0,
                "the subscriber to complete the redelivered message");

            Assert.Equal(
                committed.Select(e => e.GetProperty("id").GetString()).Order(StringComparer.Ordinal),
                received.Select(e => e.Id).Order(StringComparer.Ordinal));
            foreach (var job in jobs)
            {
                var ofJob = received.Where(e => e.JobId == job).ToList();
                Assert.Equal(
                    committed.Where(e => e.GetProperty("subject").GetString() == job).Select(e => e.GetProperty("id").GetString()),
                    ofJob.Select(e => e.Id));
                var last = ofJob[^1];
                Assert.Equal("video.extension.completed", last.Type);
                Assert.Equal("completed", last.Status);
                Assert.NotEmpty(last.VideoUrls);
            }
        }
    }

    [Fact]
    public void The_readme_shows_exactly_the_tested_subscriber_code()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "VideoCallbacks.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        }

        var tested = Between(File.ReadAllText(Path.Combine(root, "tests/VideoCallbacks.Tests/ServiceBus/VideoEventsSubscriber.cs")));
        var readme = Between(File.ReadAllText(Path.Combine(root, "README.md")));
        Assert.Equal(tested.ReplaceLineEndings().Trim(), readme.ReplaceLineEndings().Trim());
    }

    private static string Between(string text)
    {
        const string start = "// <subscriber-example>";
        const string end = "// </subscriber-example>";
        var from = text.IndexOf(start, StringComparison.Ordinal);
        var to = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, "subscriber-example markers not found");
        return text[(from + start.Length)..to];
    }
}
