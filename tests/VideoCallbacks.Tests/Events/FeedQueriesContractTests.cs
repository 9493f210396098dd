namespace VideoCallbacks.Tests.Events;

/// <summary>The event feed reads every event in sequence order.</summary>
public abstract class FeedQueriesContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Read_events_returns_events_in_sequence_order_with_paging()
    {
        Assert.Empty(await Feed.ReadEventsAsync(0, 100, Ct));
        var a = await CreateAcceptedAsync();
        var b = await CreateAcceptedAsync(ApiframeProvider.Name);
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

    [Fact]
    public async Task A_reader_following_the_feed_never_skips_an_event_committed_by_concurrent_writers()
    {
        // Several writers (as several instances would) commit batches while a reader follows the feed with `after`.
        // If a later sequence could become visible before an earlier one, the reader would move past the earlier
        // one and never see it.
        const int writers = 4, jobsPerWriter = 3, rounds = 12;
        var jobs = new List<Job>();
        for (var i = 0; i < writers * jobsPerWriter; i++) jobs.Add(await CreateAcceptedAsync(ApiframeProvider.Name));
        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var own = Open(ConnectionString);
            for (var round = 1; round <= rounds; round++)
            {
                var batch = jobs.Skip(w * jobsPerWriter).Take(jobsPerWriter)
                    .Select(j => StoreData.Item(j, j.ProviderTaskId, ProviderObservation.Processing(round), Time.GetUtcNow())).ToList();
                Assert.All(await own.Ingest.IngestAsync(batch, Ct), r => Assert.Equal(CallbackOutcomes.Accepted, r.Outcome));
            }
        })).ToList();

        var followed = new List<StoredEvent>();
        var after = 0L;
        var done = Task.WhenAll(writing);
        while (true)
        {
            var finished = done.IsCompleted;
            var page = await Feed.ReadEventsAsync(after, 500, Ct);
            followed.AddRange(page);
            if (page.Count > 0) after = page[^1].Sequence;
            else if (finished) break;
        }
        await done;

        var all = await Feed.ReadEventsAsync(0, 10_000, Ct);
        Assert.Equal(jobs.Count * (1 + rounds), all.Count);
        Assert.Equal(all.Select(e => e.EventId), followed.Select(e => e.EventId));
    }
}

public sealed class SqliteFeedQueriesContractTests() : FeedQueriesContract(new SqliteTestDatabase());

public sealed class PostgresFeedQueriesContractTests() : FeedQueriesContract(new PostgresTestDatabase());
