using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>The relay's claims, leases and publish outcomes.</summary>
public abstract class OutboxStoreContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Claim_returns_pending_events_in_order()
    {
        var a = await CreateAcceptedAsync();
        var b = await CreateAcceptedAsync();
        await IngestOneAsync(a, ProviderObservation.Processing(20));
        var expected = (await Feed.ReadEventsAsync(0, 100, Ct)).Select(e => e.Sequence).ToList();

        var claimed = await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 100, Ct);

        Assert.Equal(expected, claimed.Select(e => e.Sequence));
        Assert.All(claimed, e => Assert.Equal(PublishStatuses.Pending, e.PublishStatus));
        Assert.Contains(claimed, e => e.JobId == b.JobId);
    }

    [Fact]
    public async Task Claim_honours_the_limit()
    {
        for (var i = 0; i < 3; i++) await CreateAcceptedAsync();
        var all = await Feed.ReadEventsAsync(0, 100, Ct);

        var first = await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 2, Ct);
        var second = await Outbox.ClaimPendingEventsAsync("relay-2", Time.GetUtcNow(), Lease, 2, Ct);

        Assert.Equal(all.Take(2).Select(e => e.Sequence), first.Select(e => e.Sequence));
        Assert.Equal([all[2].Sequence], second.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Claimed_event_is_not_claimed_again_until_its_lease_expires()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();

        var first = await Outbox.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct);
        var during = await Outbox.ClaimPendingEventsAsync("relay-2", start + TimeSpan.FromSeconds(10), Lease, 10, Ct);
        var after = await Outbox.ClaimPendingEventsAsync("relay-2", start + Lease + TimeSpan.FromSeconds(1), Lease, 10, Ct);

        var e = Assert.Single(first);
        Assert.Empty(during);
        Assert.Equal(e.Sequence, Assert.Single(after).Sequence);
    }

    [Fact]
    public async Task Renewing_a_held_claim_extends_it_and_an_expired_or_foreign_claim_is_not_renewed()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var e = Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct));

        Assert.Equal(1, await Outbox.RenewClaimsAsync("relay-1", [e.Sequence], start + Lease / 2, Lease, Ct));
        // Renewed: still held past the original lease.
        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-2", start + Lease + TimeSpan.FromSeconds(1), Lease, 10, Ct));
        Assert.Equal(0, await Outbox.RenewClaimsAsync("relay-2", [e.Sequence], start + Lease, Lease, Ct));
        // Past the renewed lease it is no longer ours to renew.
        Assert.Equal(0, await Outbox.RenewClaimsAsync("relay-1", [e.Sequence], start + Lease * 2, Lease, Ct));
        var claim = Assert.Single(await Outbox.GetClaimsAsync(Ct));
        Assert.Equal(("relay-1", start + Lease / 2 + Lease), (claim.Owner, claim.LeaseUntil));
    }

    [Fact]
    public async Task Failure_reported_by_a_former_holder_leaves_the_new_holders_claim_alone()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var e = Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct));
        Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-2", start + Lease + TimeSpan.FromSeconds(1), Lease, 10, Ct));

        await Outbox.MarkPublishFailedAsync(e.Sequence, "late failure", start + Lease * 3, Ct, owner: "relay-1");

        var claim = Assert.Single(await Outbox.GetClaimsAsync(Ct));
        Assert.Equal("relay-2", claim.Owner);
        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-3", start + Lease + TimeSpan.FromSeconds(2), Lease, 10, Ct));
    }

    [Fact]
    public async Task Released_claim_is_claimable_at_once_by_another_owner_but_not_released_by_one()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var e = Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct));

        Assert.Equal(0, await Outbox.ReleaseClaimsAsync("relay-2", [e.Sequence], Ct));
        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-2", start, Lease, 10, Ct));
        Assert.Equal(1, await Outbox.ReleaseClaimsAsync("relay-1", [e.Sequence], Ct));
        Assert.Empty(await Outbox.GetClaimsAsync(Ct));
        Assert.Equal(e.Sequence, Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-2", start, Lease, 10, Ct)).Sequence);
    }

    [Fact]
    public async Task Published_events_are_not_claimed_again()
    {
        await CreateAcceptedAsync();
        var claimed = await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct);

        await Outbox.MarkPublishedAsync(claimed.Select(e => e.Sequence).ToList(), Time.GetUtcNow(), Ct);

        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow() + TimeSpan.FromHours(1), Lease, 10, Ct));
        var stored = Assert.Single(await Feed.ReadEventsAsync(0, 10, Ct));
        Assert.Equal(PublishStatuses.Published, stored.PublishStatus);
        Assert.Equal(Time.GetUtcNow(), stored.PublishedAt);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal(new OutboxStats(0, 0, null), await Outbox.GetOutboxStatsAsync(Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Concurrent_claims_never_hand_one_event_to_two_owners()
    {
        for (var i = 0; i < 12; i++) await CreateAcceptedAsync();
        var all = (await Feed.ReadEventsAsync(0, 100, Ct)).Select(e => e.Sequence).ToList();

        var claims = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            Task.Run(() => Outbox.ClaimPendingEventsAsync($"relay-{i}", Time.GetUtcNow(), Lease, 3, Ct))));
        var sweep = await Outbox.ClaimPendingEventsAsync("relay-sweep", Time.GetUtcNow(), Lease, 100, Ct);

        var claimed = claims.SelectMany(c => c).Concat(sweep).Select(e => e.Sequence).ToList();
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        Assert.Equal(all, claimed.Order());
    }

    [Fact]
    public async Task Publish_failure_with_a_next_time_keeps_the_event_pending_until_then()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var e = Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct));
        var retryAt = start + TimeSpan.FromMinutes(1);

        await Outbox.MarkPublishFailedAsync(e.Sequence, "bus said 503", retryAt, Ct);

        var stored = Assert.Single(await Feed.ReadEventsAsync(0, 10, Ct));
        Assert.Equal(PublishStatuses.Pending, stored.PublishStatus);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal("bus said 503", stored.LastError);
        Assert.Equal(retryAt, stored.NextAttemptAt);
        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-1", start + TimeSpan.FromSeconds(59), Lease, 10, Ct));
        Assert.Equal(e.Sequence, Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-2", retryAt, Lease, 10, Ct)).Sequence);
    }

    [Fact]
    public async Task Publish_failure_without_a_next_time_marks_the_event_failed()
    {
        await CreateAcceptedAsync();
        var e = Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct));

        await Outbox.MarkPublishFailedAsync(e.Sequence, "gave up", null, Ct);

        var stored = await Admin.GetEventAsync(e.EventId, Ct);
        Assert.Equal(PublishStatuses.Failed, stored!.PublishStatus);
        Assert.Equal("gave up", stored.LastError);
        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow() + TimeSpan.FromDays(1), Lease, 10, Ct));
        Assert.Equal(new OutboxStats(0, 1, null), await Outbox.GetOutboxStatsAsync(Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Later_event_of_a_job_waits_while_an_earlier_one_is_in_backoff()
    {
        var job = await CreateAcceptedAsync();
        await IngestOneAsync(job, ProviderObservation.Processing(30));
        var other = await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var submitted = Assert.Single(await Outbox.ClaimPendingEventsAsync("relay-1", start, Lease, 1, Ct));
        Assert.Equal($"{job.JobId}:submitted", submitted.EventId);

        // While the first event is leased, the job's next event stays behind it; other jobs go ahead.
        var whileLeased = await Outbox.ClaimPendingEventsAsync("relay-2", start, Lease, 10, Ct);
        Assert.Equal([$"{other.JobId}:submitted"], whileLeased.Select(e => e.EventId));
        await Outbox.MarkPublishedAsync([whileLeased[0].Sequence], start, Ct);

        await Outbox.MarkPublishFailedAsync(submitted.Sequence, "transient", start + TimeSpan.FromMinutes(5), Ct);
        Assert.Empty(await Outbox.ClaimPendingEventsAsync("relay-2", start + TimeSpan.FromMinutes(1), Lease, 10, Ct));

        var inOrder = await Outbox.ClaimPendingEventsAsync("relay-2", start + TimeSpan.FromMinutes(5), Lease, 10, Ct);
        Assert.Equal([$"{job.JobId}:submitted", $"{job.JobId}:progress:30"], inOrder.Select(e => e.EventId));
    }

    [Fact]
    public async Task Outbox_stats_count_pending_and_failed_events()
    {
        await CreateAcceptedAsync();
        var firstTime = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromSeconds(10));
        await CreateAcceptedAsync();
        Time.Advance(TimeSpan.FromSeconds(10));
        await CreateAcceptedAsync();
        var all = await Feed.ReadEventsAsync(0, 10, Ct);
        await Outbox.MarkPublishFailedAsync(all[0].Sequence, "gave up", null, Ct);

        var stats = await Outbox.GetOutboxStatsAsync(Time.GetUtcNow(), Ct);

        Assert.Equal(new OutboxStats(2, 1, firstTime + TimeSpan.FromSeconds(10)), stats);
    }
}

public sealed class SqliteOutboxStoreContractTests() : OutboxStoreContract(new SqliteTestDatabase());

public sealed class PostgresOutboxStoreContractTests() : OutboxStoreContract(new PostgresTestDatabase());
