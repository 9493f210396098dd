namespace VideoCallbacks.Tests.Operators;

/// <summary>The operators' store: filters, paging, replay, audit and retention.</summary>
public abstract class AdminStoreContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Replay_puts_failed_events_back_to_pending_and_published_ones_only_on_request()
    {
        var failedJob = await CreateAcceptedAsync();
        var publishedJob = await CreateAcceptedAsync();
        var events = await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct);
        var failed = events.Single(e => e.JobId == failedJob.JobId);
        var published = events.Single(e => e.JobId == publishedJob.JobId);
        await Outbox.MarkPublishFailedAsync(failed.Sequence, "gave up", null, Ct);
        await Outbox.MarkPublishedAsync([published.Sequence], Time.GetUtcNow(), Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await Admin.ReplayEventsAsync([failed.Sequence, published.Sequence], includePublished: false, Time.GetUtcNow(), Ct));

        var replayed = await Admin.GetEventAsync(failed.EventId, Ct);
        Assert.Equal(PublishStatuses.Pending, replayed!.PublishStatus);
        Assert.Equal(0, replayed.Attempts);
        Assert.Null(replayed.LastError);
        Assert.Equal(PublishStatuses.Published, (await Admin.GetEventAsync(published.EventId, Ct))!.PublishStatus);
        Assert.Equal([failed.Sequence], (await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct)).Select(e => e.Sequence));

        Assert.Equal(1, await Admin.ReplayEventsAsync([published.Sequence], includePublished: true, Time.GetUtcNow(), Ct));
        Assert.Equal(PublishStatuses.Pending, (await Admin.GetEventAsync(published.EventId, Ct))!.PublishStatus);
        Assert.Equal([published.Sequence], (await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct)).Select(e => e.Sequence));
        Assert.Equal(0, await Admin.ReplayEventsAsync([], includePublished: true, Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Replay_leaves_pending_events_alone()
    {
        await CreateAcceptedAsync();
        var e = Assert.Single(await Feed.ReadEventsAsync(0, 10, Ct));

        Assert.Equal(0, await Admin.ReplayEventsAsync([e.Sequence], includePublished: true, Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task List_events_filters_and_pages()
    {
        var t0 = Time.GetUtcNow();
        var kie = await CreateAcceptedAsync(KieProvider.Name);
        Time.Advance(TimeSpan.FromMinutes(1));
        var apiframe = await CreateAcceptedAsync(ApiframeProvider.Name);
        Time.Advance(TimeSpan.FromMinutes(1));
        await IngestOneAsync(kie, StoreData.Completed());
        Time.Advance(TimeSpan.FromMinutes(1));
        await IngestOneAsync(apiframe, ProviderObservation.Failed("x", "y"));
        var all = await Feed.ReadEventsAsync(0, 100, Ct);
        await Outbox.MarkPublishFailedAsync(all[1].Sequence, "gave up", null, Ct);

        static EventFilter Filter(string? status = null, string? provider = null, string? type = null,
            DateTimeOffset? since = null, DateTimeOffset? until = null, long? after = null, int limit = 100) =>
            new(status, provider, type, since, until, after, limit);

        Assert.Equal(all.Select(e => e.EventId), (await Admin.ListEventsAsync(Filter(), Ct)).Select(e => e.EventId));
        Assert.Equal([all[1].EventId], (await Admin.ListEventsAsync(Filter(status: PublishStatuses.Failed), Ct)).Select(e => e.EventId));
        Assert.Equal(3, (await Admin.ListEventsAsync(Filter(status: PublishStatuses.Pending), Ct)).Count);
        Assert.Equal([$"{apiframe.JobId}:submitted", $"{apiframe.JobId}:failed"],
            (await Admin.ListEventsAsync(Filter(provider: ApiframeProvider.Name), Ct)).Select(e => e.EventId));
        Assert.Equal([$"{kie.JobId}:completed"], (await Admin.ListEventsAsync(Filter(type: EventTypes.Completed), Ct)).Select(e => e.EventId));
        Assert.Equal([$"{apiframe.JobId}:failed"],
            (await Admin.ListEventsAsync(Filter(provider: ApiframeProvider.Name, type: EventTypes.Failed, status: PublishStatuses.Pending), Ct)).Select(e => e.EventId));
        Assert.Equal([$"{apiframe.JobId}:submitted", $"{kie.JobId}:completed"],
            (await Admin.ListEventsAsync(Filter(since: t0 + TimeSpan.FromMinutes(1), until: t0 + TimeSpan.FromMinutes(3)), Ct)).Select(e => e.EventId));
        Assert.Empty(await Admin.ListEventsAsync(Filter(provider: NanoGptProvider.Name), Ct));

        var page1 = await Admin.ListEventsAsync(Filter(limit: 3), Ct);
        var page2 = await Admin.ListEventsAsync(Filter(limit: 3, after: page1[^1].Sequence), Ct);
        Assert.Equal(all.Take(3).Select(e => e.Sequence), page1.Select(e => e.Sequence));
        Assert.Equal([all[3].Sequence], page2.Select(e => e.Sequence));
    }

    [Fact]
    public async Task List_callbacks_filters_and_pages()
    {
        var t0 = Time.GetUtcNow();
        var kie = await CreateAcceptedAsync(KieProvider.Name);
        var apiframe = await CreateAcceptedAsync(ApiframeProvider.Name);
        var accepted = await IngestOneAsync(kie, ProviderObservation.Processing(10));
        Time.Advance(TimeSpan.FromMinutes(1));
        var duplicate = await IngestOneAsync(kie, ProviderObservation.Processing(10));
        var rejected = await IngestOneAsync(apiframe, StoreData.Completed(), taskId: "not-the-task");
        Time.Advance(TimeSpan.FromMinutes(1));
        var unmatched = await IngestOneAsync(apiframe with { JobId = "job_nobody" }, StoreData.Completed());
        var verification = await Ingest.RecordRejectedCallbackAsync(
            new RejectedCallback(KieProvider.Name, kie.JobId, CallbackOutcomes.Rejected, "bad signature", StoreData.Raw(Time.GetUtcNow())), Ct);
        var ids = new[] { accepted.CallbackId!.Value, duplicate.CallbackId!.Value, rejected.CallbackId!.Value, unmatched.CallbackId!.Value, verification };

        static CallbackFilter Filter(string? outcome = null, string? provider = null, DateTimeOffset? since = null, DateTimeOffset? until = null,
            long? after = null, int limit = 100) => new(outcome, provider, since, until, after, limit);

        Assert.Equal(ids, (await Admin.ListCallbacksAsync(Filter(), Ct)).Select(c => c.Id));
        Assert.Equal([rejected.CallbackId!.Value, verification], (await Admin.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Rejected), Ct)).Select(c => c.Id));
        Assert.Equal([unmatched.CallbackId!.Value], (await Admin.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Unmatched), Ct)).Select(c => c.Id));
        Assert.Equal([rejected.CallbackId!.Value, unmatched.CallbackId!.Value],
            (await Admin.ListCallbacksAsync(Filter(provider: ApiframeProvider.Name), Ct)).Select(c => c.Id));
        Assert.Equal([verification], (await Admin.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Rejected, provider: KieProvider.Name), Ct)).Select(c => c.Id));
        Assert.Equal([duplicate.CallbackId!.Value, rejected.CallbackId!.Value],
            (await Admin.ListCallbacksAsync(Filter(since: t0 + TimeSpan.FromMinutes(1), until: t0 + TimeSpan.FromMinutes(2)), Ct)).Select(c => c.Id));
        Assert.Empty(await Admin.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Failed), Ct));

        var page1 = await Admin.ListCallbacksAsync(Filter(limit: 2), Ct);
        var page2 = await Admin.ListCallbacksAsync(Filter(limit: 2, after: page1[^1].Id), Ct);
        var page3 = await Admin.ListCallbacksAsync(Filter(limit: 2, after: page2[^1].Id), Ct);
        Assert.Equal(ids, page1.Concat(page2).Concat(page3).Select(c => c.Id));
        Assert.Single(page3);
    }

    [Fact]
    public async Task Audit_entries_append_and_page()
    {
        var t0 = Time.GetUtcNow();
        await Admin.AppendAuditAsync(t0, "admin-1", "replay", "event:job_1:failed", 1, null, Ct);
        await Admin.AppendAuditAsync(t0 + TimeSpan.FromSeconds(1), "admin-2", "replay-bulk", "status=failed", 7, """{"provider":"kie"}""", Ct);
        await Admin.AppendAuditAsync(t0 + TimeSpan.FromSeconds(2), "admin-1", "reprocess", "callback:12", 1, null, Ct);

        var first = await Admin.ListAuditAsync(null, 2, Ct);
        var rest = await Admin.ListAuditAsync(first[^1].Id, 10, Ct);

        Assert.Equal(2, first.Count);
        Assert.Equal(new AuditEntry(first[0].Id, t0, "admin-1", "replay", "event:job_1:failed", 1, null), first[0]);
        Assert.Equal(new AuditEntry(first[1].Id, t0 + TimeSpan.FromSeconds(1), "admin-2", "replay-bulk", "status=failed", 7, """{"provider":"kie"}"""), first[1]);
        Assert.True(first[0].Id < first[1].Id);
        var last = Assert.Single(rest);
        Assert.Equal("reprocess", last.Action);
        Assert.True(last.Id > first[1].Id);
        Assert.Empty(await Admin.ListAuditAsync(last.Id, 10, Ct));
    }

    [Fact]
    public async Task Prune_deletes_old_published_events_and_callbacks_but_keeps_failed_ones()
    {
        var t0 = Time.GetUtcNow();
        var published = await CreateAcceptedAsync();
        var failed = await CreateAcceptedAsync();
        var pending = await CreateAcceptedAsync();
        var events = await Feed.ReadEventsAsync(0, 10, Ct);
        await Outbox.MarkPublishedAsync([events.Single(e => e.JobId == published.JobId).Sequence], t0, Ct);
        await Outbox.MarkPublishFailedAsync(events.Single(e => e.JobId == failed.JobId).Sequence, "gave up", null, Ct);
        var oldAccepted = await IngestOneAsync(published, ProviderObservation.Processing(10));
        var oldUnmatched = await IngestOneAsync(published with { JobId = "job_nobody" }, StoreData.Completed());
        var oldFailed = Assert.Single(await Ingest.IngestAsync(
            [new IngestItem(published.Provider, published.JobId, published.ProviderTaskId, null, StoreData.Raw(t0), Problem: "garbled")], Ct));
        Time.Advance(TimeSpan.FromDays(10));
        var recent = await IngestOneAsync(pending, ProviderObservation.Processing(10));
        var recentEvents = (await Feed.ReadEventsAsync(0, 100, Ct)).Where(e => e.JobId == pending.JobId).Select(e => e.Sequence).ToList();
        await Outbox.MarkPublishedAsync(recentEvents, Time.GetUtcNow(), Ct);

        var (prunedEvents, prunedCallbacks) = await Admin.PruneAsync(t0 + TimeSpan.FromDays(1), 100, Ct);

        Assert.Equal(1, prunedEvents);
        Assert.Equal(2, prunedCallbacks);
        var left = await Feed.ReadEventsAsync(0, 100, Ct);
        Assert.DoesNotContain(left, e => e.JobId == published.JobId && e.Type == EventTypes.Submitted);
        Assert.Contains(left, e => e.JobId == failed.JobId && e.PublishStatus == PublishStatuses.Failed);
        Assert.Equal(recentEvents, left.Where(e => e.JobId == pending.JobId).Select(e => e.Sequence));
        Assert.Null(await Admin.GetCallbackAsync(oldAccepted.CallbackId!.Value, Ct));
        Assert.Null(await Admin.GetCallbackAsync(oldUnmatched.CallbackId!.Value, Ct));
        Assert.NotNull(await Admin.GetCallbackAsync(oldFailed.CallbackId!.Value, Ct));
        Assert.NotNull(await Admin.GetCallbackAsync(recent.CallbackId!.Value, Ct));
        // The progress event of the published job was never published, so it stays too.
        Assert.Contains(left, e => e.JobId == published.JobId && e.Type == EventTypes.Progress);
        Assert.Equal((0, 0), await Admin.PruneAsync(t0 + TimeSpan.FromDays(1), 100, Ct));
    }

    [Fact]
    public async Task Prune_honours_the_limit()
    {
        var t0 = Time.GetUtcNow();
        for (var i = 0; i < 3; i++) await CreateAcceptedAsync();
        var sequences = (await Feed.ReadEventsAsync(0, 10, Ct)).Select(e => e.Sequence).ToList();
        await Outbox.MarkPublishedAsync(sequences, t0, Ct);

        Assert.Equal((2, 0), await Admin.PruneAsync(t0 + TimeSpan.FromSeconds(1), 2, Ct));
        Assert.Equal([sequences[2]], (await Feed.ReadEventsAsync(0, 10, Ct)).Select(e => e.Sequence));
    }
}

public sealed class SqliteAdminStoreContractTests() : AdminStoreContract(new SqliteTestDatabase());

public sealed class PostgresAdminStoreContractTests() : AdminStoreContract(new PostgresTestDatabase());
