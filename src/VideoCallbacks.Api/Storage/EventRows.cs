using System.Data.Common;
using Dapper;
using VideoCallbacks.Api.Events;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Storage;

/// <summary>
/// The <c>events</c> table (the outbox) as every feature reads it, and the one way events are written:
/// inside the caller's own transaction, so a state change and its event commit together.
/// </summary>
public static class EventRows
{
    public const string Columns = """
        sequence AS Sequence, event_id AS EventId, job_id AS JobId, provider AS Provider, type AS Type, job_status AS JobStatus,
        correlation_id AS CorrelationId, time AS Time, data AS Data, status AS Status, attempts AS Attempts,
        next_attempt_at AS NextAttemptAt, last_error AS LastError, published_at AS PublishedAt, trace_parent AS TraceParent,
        client AS Client
        """;

    /// <summary>Inserts events in order (their sequence follows); answers the ids that were new.</summary>
    public static async Task<HashSet<string>> InsertAsync(SqlDatabase db, DbConnection c, DbTransaction tx, IReadOnlyList<NewEvent> events, CancellationToken ct)
    {
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        if (events.Count == 0) return inserted;
        var publishedOnCommit = db.Settings.PublishedOnCommit;
        var status = publishedOnCommit ? PublishStatuses.Published : PublishStatuses.Pending;
        if (!db.ArrayParameters)
        {
            // In process (SQLite): one statement for the batch (a statement per event cost more than the rows did).
            // The writer gate serializes writers, and rows are inserted in the array's order, so sequence order is commit order.
            var rows = JsonRows(events.Select(e => new object?[] { e.EventId, e.JobId, e.Provider, e.Type, e.JobStatus, e.CorrelationId, Ms(e.Time), e.DataJson, e.TraceParent, e.Client }));
            inserted.UnionWith(await c.QueryAsync<string>(new CommandDefinition("""
                INSERT INTO events (event_id, job_id, provider, type, job_status, correlation_id, time, data, status, attempts, next_attempt_at, published_at, trace_parent, client)
                SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]'),
                       json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'), json_extract(r.value, '$[6]'), json_extract(r.value, '$[7]'),
                       @status, 0, json_extract(r.value, '$[6]'), CASE WHEN @publishedOnCommit THEN json_extract(r.value, '$[6]') END,
                       json_extract(r.value, '$[8]'), json_extract(r.value, '$[9]')
                FROM jsonb_each(@rows) AS r WHERE true ORDER BY r.key
                ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                """, new { rows, status, publishedOnCommit }, tx, cancellationToken: ct)));
            return inserted;
        }
        var outboxLock = db.OutboxLockQuery ?? throw new InvalidOperationException("An engine writing batches concurrently needs an outbox lock.");
        // One statement text for any batch; rows numbered so the sequence follows the events' order. The statement
        // takes the outbox lock itself: every row it inserts joins the lock's one row and is sorted before the
        // sequence is drawn, so the lock is held before the first sequence number is taken, and until the commit.
        inserted.UnionWith(await c.QueryAsync<string>(new CommandDefinition($"""
            WITH outbox_lock AS MATERIALIZED ({outboxLock})
            INSERT INTO events (event_id, job_id, provider, type, job_status, correlation_id, time, data, status, attempts, next_attempt_at, published_at, trace_parent, client)
            SELECT v.id, v.j, v.p, v.t, v.s, v.c, v.at, v.d, @status, 0, v.at, CASE WHEN @publishedOnCommit THEN v.at END, v.tp, v.cl
            FROM outbox_lock, unnest(@ids, @jobIds, @providers, @types, @jobStatuses, @correlationIds, @times, @datas, @traceParents, @clients)
                WITH ORDINALITY AS v(id, j, p, t, s, c, at, d, tp, cl, n)
            ORDER BY v.n
            ON CONFLICT (event_id) DO NOTHING RETURNING event_id
            """, new
            {
                status, publishedOnCommit,
                ids = events.Select(e => e.EventId).ToArray(), jobIds = events.Select(e => e.JobId).ToArray(),
                providers = events.Select(e => e.Provider).ToArray(), types = events.Select(e => e.Type).ToArray(),
                jobStatuses = events.Select(e => e.JobStatus).ToArray(), correlationIds = events.Select(e => e.CorrelationId).ToArray(),
                times = events.Select(e => Ms(e.Time)).ToArray(), datas = events.Select(e => e.DataJson).ToArray(),
                traceParents = events.Select(e => e.TraceParent).ToArray(), clients = events.Select(e => e.Client).ToArray(),
            }, tx, cancellationToken: ct)));
        return inserted;
    }
}

/// <summary>An <c>events</c> row as Dapper reads it.</summary>
public sealed class EventRow
{
    public long Sequence { get; set; }
    public string EventId { get; set; } = "";
    public string JobId { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Type { get; set; } = "";
    public string JobStatus { get; set; } = "";
    public string? CorrelationId { get; set; }
    public long Time { get; set; }
    public string Data { get; set; } = "";
    public string Status { get; set; } = "";
    public long Attempts { get; set; }
    public long? NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    public long? PublishedAt { get; set; }
    public string? TraceParent { get; set; }
    public string Client { get; set; } = Security.AuthOptions.DefaultClient;

    public StoredEvent ToEvent() => new()
    {
        Sequence = Sequence, EventId = EventId, JobId = JobId, Client = Client, Provider = Provider, Type = Type, JobStatus = JobStatus,
        CorrelationId = CorrelationId, Time = FromMs(Time)!.Value, DataJson = Data, PublishStatus = Status,
        Attempts = (int)Attempts, NextAttemptAt = Status == PublishStatuses.Pending ? FromMs(NextAttemptAt) : null,
        LastError = LastError, PublishedAt = FromMs(PublishedAt), TraceParent = TraceParent,
    };
}
