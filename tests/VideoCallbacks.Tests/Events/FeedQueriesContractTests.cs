namespace VideoCallbacks.Tests.Events;

/// <summary>The event feed reads every event in sequence order.</summary>
public abstract class FeedQueriesContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Read_events_returns_events_in_sequence_order_with_paging()
    {
        Assert.Empty(await Feed.ReadEventsAsync(0, 100, Ct));
        var a = await CreateAcceptedAsync();
        var b = await CreateAcceptedAsync(ProviderNames.Apiframe);
        await IngestOneAsync(a, ProviderObservation.Processing(10));
        await IngestOneAsync(b, StoreData.Completed());
        await IngestOneAsync(a, StoreData.Completed());

        var all = await Feed.ReadEventsAsync(0, 100, Ct);

        Assert.Equal(5, all.Count);
        Assert.Equal(
            [$"{a.JobId}:submitted", $"{b.JobId}:submitted", $"{a.JobId}:progress:10", $"{b.JobId}:completed", $"{a.JobId}:completed"],
            all.Select(e => e.EventId));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));

        var page = await Feed.ReadEventsAsync(all[0].Sequence, 2, Ct);
        Assert.Equal(all.Skip(1).Take(2).Select(e => e.Sequence), page.Select(e => e.Sequence));
        var rest = await Feed.ReadEventsAsync(page[^1].Sequence, 100, Ct);
        Assert.Equal(all.Skip(3).Select(e => e.Sequence), rest.Select(e => e.Sequence));
        Assert.Empty(await Feed.ReadEventsAsync(all[^1].Sequence, 100, Ct));
    }
}

public sealed class SqliteFeedQueriesContractTests() : FeedQueriesContract(new SqliteTestDatabase());

public sealed class PostgresFeedQueriesContractTests() : FeedQueriesContract(new PostgresTestDatabase());
