using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Admin;

public sealed record StoredCallback(
    long Id, string Provider, string? JobId, DateTimeOffset ReceivedAt, string Outcome, string? Reason, string? EventId, string HeadersJson, string Body);

/// <param name="ReasonPrefix">Only callbacks whose reason starts so (the dashboard's "anomaly:" duplicates).</param>
/// <param name="JobId">Only one job's callbacks.</param>
public sealed record CallbackFilter(string? Outcome, string? Provider, DateTimeOffset? Since, DateTimeOffset? Until, long? AfterId, int Limit,
    string? ReasonPrefix = null, string? JobId = null);

public sealed record EventFilter(string? Status, string? Provider, string? Type, DateTimeOffset? Since, DateTimeOffset? Until, long? AfterSequence, int Limit,
    string? Client = null);

/// <summary>The operators' SQL: list and replay events, list stored callbacks, the audit trail, retention.</summary>
public sealed class AdminStore(SqlDatabase db)
{
    private const string CallbackColumns = """
        id AS Id, provider AS Provider, job_id AS JobId, received_at AS ReceivedAt, outcome AS Outcome, reason AS Reason,
        event_id AS EventId, headers AS Headers, body AS Body
        """;

    public Task<IReadOnlyList<StoredEvent>> ListEventsAsync(EventFilter filter, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (filter.Status is not null) where.Add("status = @Status");
        if (filter.Provider is not null) where.Add("provider = @Provider");
        if (filter.Type is not null) where.Add("type = @Type");
        if (filter.Client is not null) where.Add("client = @Client");
        if (filter.Since is not null) where.Add("time >= @SinceMs");
        if (filter.Until is not null) where.Add("time < @UntilMs");
        if (filter.AfterSequence is not null) where.Add("sequence > @AfterSequence");
        var sql = $"SELECT {EventRows.Columns} FROM events {Where(where)} ORDER BY sequence LIMIT @Limit";
        return db.ReadAsync<IReadOnlyList<StoredEvent>>(async c =>
        {
            var rows = await c.QueryAsync<EventRow>(new CommandDefinition(sql, new
            {
                filter.Status, filter.Provider, filter.Type, filter.Client, SinceMs = Ms(filter.Since), UntilMs = Ms(filter.Until), filter.AfterSequence, filter.Limit,
            }, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToEvent()).ToList();
        }, cancellationToken);
    }

    public Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
                $"SELECT {EventRows.Columns} FROM events WHERE event_id = @eventId", new { eventId }, cancellationToken: cancellationToken));
            return row?.ToEvent();
        }, cancellationToken);

    /// <summary>Puts events back to pending with a fresh attempt budget; answers how many moved.</summary>
    public async Task<int> ReplayEventsAsync(IReadOnlyList<long> sequences, bool includePublished, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return 0;
        return await db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = @now, last_error = NULL,
                              lease_owner = NULL, lease_until = NULL
            WHERE {db.SequenceInList} AND (status = 'failed' OR (@includePublished = 1 AND status = 'published'))
            """, new { sequences = sequences.ToArray(), includePublished = includePublished ? 1 : 0, now = Ms(now) }, cancellationToken: cancellationToken)),
            cancellationToken);
    }

    /// <summary>Deletes failed events an operator has given up on; other states are left alone.</summary>
    public async Task<int> PurgeFailedEventsAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return 0;
        return await db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition($"DELETE FROM events WHERE {db.SequenceInList} AND status = 'failed'",
            new { sequences }, cancellationToken: cancellationToken)), cancellationToken);
    }

    public Task<StoredCallback?> GetCallbackAsync(long id, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<CallbackRow>(new CommandDefinition(
                $"SELECT {CallbackColumns} FROM callbacks WHERE id = @id", new { id }, cancellationToken: cancellationToken));
            return row?.ToCallback();
        }, cancellationToken);

    public Task<IReadOnlyList<StoredCallback>> ListCallbacksAsync(CallbackFilter filter, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (filter.Outcome is not null) where.Add("outcome = @Outcome");
        if (filter.Provider is not null) where.Add("provider = @Provider");
        if (filter.Since is not null) where.Add("received_at >= @SinceMs");
        if (filter.Until is not null) where.Add("received_at < @UntilMs");
        if (filter.AfterId is not null) where.Add("id > @AfterId");
        if (filter.ReasonPrefix is not null) where.Add("reason LIKE @ReasonLike");
        if (filter.JobId is not null) where.Add("job_id = @JobId");
        var sql = $"SELECT {CallbackColumns} FROM callbacks {Where(where)} ORDER BY id LIMIT @Limit";
        return db.ReadAsync<IReadOnlyList<StoredCallback>>(async c =>
        {
            var rows = await c.QueryAsync<CallbackRow>(new CommandDefinition(sql, new
            {
                filter.Outcome, filter.Provider, SinceMs = Ms(filter.Since), UntilMs = Ms(filter.Until), filter.AfterId, filter.Limit,
                ReasonLike = filter.ReasonPrefix?.Replace("%", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal) + "%", filter.JobId,
            }, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToCallback()).ToList();
        }, cancellationToken);
    }

    public Task AppendAuditAsync(DateTimeOffset at, string adminKeyId, string action, string target, int count, string? details, CancellationToken cancellationToken) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO audit (at, admin_key_id, action, target, count, details) VALUES (@at, @adminKeyId, @action, @target, @count, @details)
            """, new { at = Ms(at), adminKeyId, action, target = Truncate(target, 1000), count, details = Truncate(details, 4000) },
            cancellationToken: cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long? afterId, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<AuditEntry>>(async c =>
        {
            var rows = await c.QueryAsync<(long Id, long At, string AdminKeyId, string Action, string Target, long Count, string? Details)>(
                new CommandDefinition("""
                    SELECT id AS Id, at AS At, admin_key_id AS AdminKeyId, action AS Action, target AS Target, count AS Count, details AS Details
                    FROM audit WHERE id > @afterId ORDER BY id LIMIT @limit
                    """, new { afterId = afterId ?? 0, limit }, cancellationToken: cancellationToken));
            return rows.Select(r => new AuditEntry(r.Id, FromMs(r.At)!.Value, r.AdminKeyId, r.Action, r.Target, (int)r.Count, r.Details)).ToList();
        }, cancellationToken);

    /// <summary>Retention: deletes published events and stored callbacks older than <paramref name="olderThan"/>, a batch at a time.</summary>
    public Task<(int Events, int Callbacks)> PruneAsync(DateTimeOffset olderThan, int limit, CancellationToken cancellationToken) =>
        db.WriteAsync(async c =>
        {
            // Failed events and callbacks we could not understand stay until an operator deals with them.
            var events = await c.ExecuteAsync(new CommandDefinition("""
                DELETE FROM events WHERE sequence IN (
                    SELECT sequence FROM events WHERE status = 'published' AND published_at < @t ORDER BY sequence LIMIT @limit)
                """, new { t = Ms(olderThan), limit }, cancellationToken: cancellationToken));
            var callbacks = await c.ExecuteAsync(new CommandDefinition("""
                DELETE FROM callbacks WHERE id IN (
                    SELECT id FROM callbacks WHERE outcome <> 'failed' AND received_at < @t ORDER BY id LIMIT @limit)
                """, new { t = Ms(olderThan), limit }, cancellationToken: cancellationToken));
            return (events, callbacks);
        }, cancellationToken);

    private sealed class CallbackRow
    {
        public long Id { get; set; }
        public string Provider { get; set; } = "";
        public string? JobId { get; set; }
        public long ReceivedAt { get; set; }
        public string Outcome { get; set; } = "";
        public string? Reason { get; set; }
        public string? EventId { get; set; }
        public string Headers { get; set; } = "{}";
        public string Body { get; set; } = "";

        public StoredCallback ToCallback() => new(Id, Provider, JobId, FromMs(ReceivedAt)!.Value, Outcome, Reason, EventId, Headers, Body);
    }
}
