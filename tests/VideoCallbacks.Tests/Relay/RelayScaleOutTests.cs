using Xunit.Abstractions;

namespace VideoCallbacks.Tests.Relay;

/// <summary>Several instances behind a load balancer share one PostgreSQL database and one topic.</summary>
public sealed class RelayScaleOutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_instances_on_one_postgres_database_deliver_every_event_and_none_twice()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Postgres);
        await using var broker = await LocalServiceBus.StartAsync();
        await using var a = await TestApp.StartAsync(Db.Postgres, Configure(broker), connectionString: database.ConnectionString);
        await using var b = await TestApp.StartAsync(Db.Postgres, Configure(broker), connectionString: database.ConnectionString);
        var clientA = a.Driver;
        var clientB = b.Driver;

        // Clients spread over both instances; each instance's sandbox calls back to that instance.
        var submitted = await Task.WhenAll(
            RelayKit.SubmitJobsAsync(clientA, kie: 6, apiframe: 3),
            RelayKit.SubmitJobsAsync(clientB, kie: 6, apiframe: 3));
        await Task.WhenAll(
            clientA.WaitForJobsAsync(submitted[0]),
            clientB.WaitForJobsAsync(submitted[1]));
        var committed = await clientA.FeedAsync();
        Assert.Equal(
            committed.Select(e => e.GetProperty("id").GetString()),
            (await clientB.FeedAsync()).Select(e => e.GetProperty("id").GetString()));
        Assert.All(submitted.SelectMany(jobs => jobs), job => Assert.Contains(committed, e => e.GetProperty("subject").GetString() == job));

        var admin = b.Driver;
        var published = await admin.WaitUntilPublishedAsync(committed.Count);

        // Every event once on the topic; a second send of a MessageId would only be the broker dropping a re-send.
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        Assert.All(published, e => Assert.Null(e.LastError));

        // Each instance has its own long-lived client: one AMQP connection each, and both took a share of the work.
        var byConnection = broker.Transfers.Where(t => t.Accepted).GroupBy(t => t.ConnectionNumber).ToDictionary(g => g.Key, g => g.Sum(t => t.MessageIds.Count));
        Assert.True(byConnection.Count == 2, $"sends came over {byConnection.Count} connections");
        output.WriteLine($"{committed.Count} events; per connection: {string.Join(", ", byConnection.Select(kv => $"#{kv.Key}: {kv.Value}"))}; duplicates dropped: {broker.DuplicatesDropped}");
    }

    private static Action<Dictionary<string, string?>> Configure(LocalServiceBus broker) => settings =>
    {
        settings.UseServiceBus(broker.ConnectionString);
        // Small claims, so both relays keep finding work.
        settings["Relay:BatchSize"] = "3";
    };
}
