using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Bus;

public sealed record OutboxStats(long Pending, long Failed, DateTimeOffset? OldestPendingAt);

public sealed record OutboxClaim(long Sequence, string Owner, DateTimeOffset LeaseUntil);

/// <summary>The relay's SQL: claim pending events under a lease, then mark them published or failed.</summary>
public sealed class OutboxStore(SqlDatabase db)
{
    public async Task<IReadOnlyList<StoredEvent>> ClaimPendingEventsAsync(string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        // Embedded transport: every event is published by its own commit, so pending ones (replays, retries) are rare.
        // Look on a reader first: an empty claim still takes SQLite's writer gate, and the relay's wake-up per commit
        // queued every group commit behind one (0.6-0.7 ms gate wait per batch, ~150 empty claims/s under wrk).
        if (db.Settings.PublishedOnCommit && !await AnyClaimableAsync(now, cancellationToken)) return [];
        // One statement is atomic on its own: no explicit transaction (BEGIN and COMMIT were two more round trips per round).
        return await db.WriteAsync<IReadOnlyList<StoredEvent>>(async c =>
        {
            // An event waits while an earlier event of its job is still pending and not claimable,
            // so a job's events leave in order.
            var rows = await c.QueryAsync<EventRow>(new CommandDefinition($"""
                UPDATE events SET lease_owner = @owner, lease_until = @until
                WHERE sequence IN (
                    SELECT e.sequence FROM events e
                    WHERE e.status = 'pending' AND e.next_attempt_at <= @now
                      AND (e.lease_until IS NULL OR e.lease_until < @now)
                      AND NOT EXISTS (
                          SELECT 1 FROM events p
                          WHERE p.job_id = e.job_id AND p.sequence < e.sequence AND p.status = 'pending'
                            AND (p.next_attempt_at > @now OR (p.lease_until IS NOT NULL AND p.lease_until >= @now)))
                    ORDER BY e.sequence LIMIT @limit {db.ForUpdateSkipLocked})
                RETURNING {EventRows.Columns}
                """, new { owner, now = Ms(now), until = Ms(now + lease), limit }, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToEvent()).OrderBy(e => e.Sequence).ToList();
        }, cancellationToken);
    }

    /// <summary>Whether any pending event is due and unleased (ix_events_pending: only pending rows are visited).</summary>
    private Task<bool> AnyClaimableAsync(DateTimeOffset now, CancellationToken ct) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long?>(new CommandDefinition("""
            SELECT 1 FROM events WHERE status = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now) LIMIT 1
            """, new { now = Ms(now) }, cancellationToken: ct)) is not null, ct);

    public async Task MarkPublishedAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return;
        await db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET status = 'published', published_at = @now, attempts = attempts + 1, last_error = NULL,
                              lease_owner = NULL, lease_until = NULL
            WHERE {db.SequenceInList}
            """, new { now = Ms(now), sequences = sequences.ToArray() }, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>
    /// Extends this owner's unexpired claim on <paramref name="sequences"/> while their publish is in flight.
    /// Returns how many rows are still held: fewer than asked means the lease was lost and the publish must stop.
    /// </summary>
    public Task<int> RenewClaimsAsync(string owner, IReadOnlyList<long> sequences, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET lease_until = @until
            WHERE {db.SequenceInList} AND status = 'pending' AND lease_owner = @owner AND lease_until >= @now
            """, new { owner, now = Ms(now), until = Ms(now + lease), sequences = sequences.ToArray() }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Gives back this owner's claims on events it did not finish (graceful stop): any instance may take them at once.</summary>
    public async Task<int> ReleaseClaimsAsync(string owner, IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return 0;
        return await db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET lease_owner = NULL, lease_until = NULL
            WHERE {db.SequenceInList} AND status = 'pending' AND lease_owner = @owner
            """, new { owner, sequences = sequences.ToArray() }, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>Who holds which pending event and until when (diagnosis; the crash tests watch leases move with it).</summary>
    public Task<IReadOnlyList<OutboxClaim>> GetClaimsAsync(CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<OutboxClaim>>(async c =>
        {
            var rows = await c.QueryAsync<(long Sequence, string Owner, long Until)>(new CommandDefinition("""
                SELECT sequence, lease_owner, lease_until FROM events
                WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_until IS NOT NULL
                ORDER BY sequence
                """, cancellationToken: cancellationToken));
            return rows.Select(r => new OutboxClaim(r.Sequence, r.Owner, FromMs(r.Until)!.Value)).ToList();
        }, cancellationToken);

    /// <summary>
    /// Counts the attempt; with no next attempt the event is failed and waits for an operator. With
    /// <paramref name="owner"/>, only while that owner still holds the claim: a relay whose lease lapsed and was
    /// taken over must not clear the new holder's lease (that would let a third instance publish alongside it).
    /// </summary>
    public Task MarkPublishFailedAsync(long sequence, string error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken, string? owner = null) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET attempts = attempts + 1, last_error = @error,
                              status = CASE WHEN @next IS NULL THEN 'failed' ELSE 'pending' END,
                              next_attempt_at = COALESCE(@next, next_attempt_at),
                              lease_owner = NULL, lease_until = NULL
            WHERE sequence = @sequence {(owner is null ? "" : "AND lease_owner = @owner")}
            """, new { sequence, error = Truncate(error, 2000), next = Ms(nextAttemptAt), owner }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<OutboxStats> GetOutboxStatsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleAsync<(long Pending, long Failed, long? Oldest)>(new CommandDefinition("""
                SELECT (SELECT COUNT(*) FROM events WHERE status = 'pending') AS Pending,
                       (SELECT COUNT(*) FROM events WHERE status = 'failed') AS Failed,
                       (SELECT MIN(time) FROM events WHERE status = 'pending') AS Oldest
                """, cancellationToken: cancellationToken));
            return new OutboxStats(row.Pending, row.Failed, FromMs(row.Oldest));
        }, cancellationToken);
}
