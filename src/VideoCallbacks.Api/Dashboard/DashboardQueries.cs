using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>One minute's count of something, by a label (provider/outcome, or published/failed).</summary>
public sealed record MinuteCount(long Minute, string Label, int Count);

/// <summary>
/// The dashboard's own reads. Each one is bounded by an index: the last hour of callbacks by <c>received_at</c>,
/// events by <c>job_id</c>, jobs by id, provider task id or correlation id, the audit by <c>(action, id)</c>; no page
/// counts a whole table.
/// </summary>
public sealed class DashboardQueries(SqlDatabase db)
{
    public Task<IReadOnlyList<MinuteCount>> CallbacksPerMinuteAsync(DateTimeOffset since, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<MinuteCount>>(async c => (await c.QueryAsync<(long Minute, string Provider, string Outcome, long Count)>(new CommandDefinition("""
            SELECT received_at / 60000 AS Minute, provider AS Provider, outcome AS Outcome, COUNT(*) AS Count
            FROM callbacks WHERE received_at >= @since GROUP BY received_at / 60000, provider, outcome
            """, new { since = Ms(since) }, cancellationToken: ct)))
            .Select(r => new MinuteCount(r.Minute, $"{r.Provider} {r.Outcome}", (int)r.Count)).ToList(), ct);

    /// <summary>
    /// Events per minute of the last hour by how they stand now: published (by when) and failed (by event time; failed
    /// events are few and <c>ix_events_status</c> finds them). The events written in the window are found from the
    /// newest sequence backwards, so the read stays on the primary key however large the table grows.
    /// </summary>
    public Task<IReadOnlyList<MinuteCount>> EventsPerMinuteAsync(DateTimeOffset since, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<MinuteCount>>(async c =>
        {
            var published = await c.QueryAsync<(long Minute, long Count)>(new CommandDefinition("""
                SELECT published_at / 60000 AS Minute, COUNT(*) AS Count FROM (
                    SELECT published_at FROM events WHERE status = 'published' AND sequence > @floor AND published_at >= @since
                ) recent GROUP BY published_at / 60000
                """, new { since = Ms(since), floor = await FloorAsync(c, since, ct) }, cancellationToken: ct));
            var failed = await c.QueryAsync<(long Minute, long Count)>(new CommandDefinition("""
                SELECT time / 60000 AS Minute, COUNT(*) AS Count FROM events WHERE status = 'failed' AND time >= @since GROUP BY time / 60000
                """, new { since = Ms(since) }, cancellationToken: ct));
            return published.Select(r => new MinuteCount(r.Minute, "published", (int)r.Count))
                .Concat(failed.Select(r => new MinuteCount(r.Minute, "failed", (int)r.Count))).ToList();
        }, ct);

    /// <summary>The last sequence written before <paramref name="since"/>: a binary search on the primary key (events' time rises with sequence).</summary>
    private static async Task<long> FloorAsync(System.Data.Common.DbConnection c, DateTimeOffset since, CancellationToken ct)
    {
        var hi = await c.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT MAX(sequence) FROM events", cancellationToken: ct)) ?? 0;
        long lo = 0;
        var t = Ms(since);
        while (lo < hi)
        {
            var mid = lo + (hi - lo + 1) / 2;
            var time = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT time FROM events WHERE sequence >= @mid ORDER BY sequence LIMIT 1", new { mid }, cancellationToken: ct));
            if (time is null || time >= t) hi = mid - 1; else lo = mid;
        }
        return lo;
    }

    /// <summary>Jobs whose id, provider task id or correlation id is <paramref name="term"/> (newest first, at most 20).</summary>
    public Task<IReadOnlyList<string>> FindJobsAsync(string term, IReadOnlyList<string> providers, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(new CommandDefinition($"""
            SELECT job_id FROM jobs WHERE job_id = @term
            UNION SELECT job_id FROM jobs WHERE provider IN ({string.Join(", ", providers.Select((_, i) => "@p" + i))}) AND provider_task_id = @term
            UNION SELECT job_id FROM jobs WHERE correlation_id = @term
            LIMIT 20
            """, Parameters(term, providers), cancellationToken: ct))).ToList(), ct);

    private static DynamicParameters Parameters(string term, IReadOnlyList<string> providers)
    {
        var p = new DynamicParameters(new { term });
        for (var i = 0; i < providers.Count; i++) p.Add("p" + i, providers[i]);
        return p;
    }

    public Task<IReadOnlyList<StoredEvent>> EventsOfJobAsync(string jobId, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<StoredEvent>>(async c => (await c.QueryAsync<EventRow>(new CommandDefinition(
            $"SELECT {EventRows.Columns} FROM events WHERE job_id = @jobId ORDER BY sequence LIMIT 500", new { jobId }, cancellationToken: ct)))
            .Select(r => r.ToEvent()).ToList(), ct);

    /// <summary>The audit trail newest first, optionally one action or one admin key, keyset-paged by id.</summary>
    public Task<IReadOnlyList<Contracts.AuditEntry>> AuditAsync(string? action, string? keyId, long? beforeId, int limit, CancellationToken ct)
    {
        var where = new List<string>();
        if (action is not null) where.Add("action = @action");
        if (keyId is not null) where.Add("admin_key_id = @keyId");
        if (beforeId is not null) where.Add("id < @beforeId");
        return db.ReadAsync<IReadOnlyList<Contracts.AuditEntry>>(async c =>
            (await c.QueryAsync<(long Id, long At, string AdminKeyId, string Action, string Target, long Count, string? Details)>(new CommandDefinition($"""
                SELECT id AS Id, at AS At, admin_key_id AS AdminKeyId, action AS Action, target AS Target, count AS Count, details AS Details
                FROM audit {Where(where)} ORDER BY id DESC LIMIT @limit
                """, new { action, keyId, beforeId, limit }, cancellationToken: ct)))
            .Select(r => new Contracts.AuditEntry(r.Id, FromMs(r.At)!.Value, r.AdminKeyId, r.Action, r.Target, (int)r.Count, r.Details)).ToList(), ct);
    }
}
