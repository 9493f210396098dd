using System.Data.Common;
using System.Diagnostics;
using Dapper;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Callback ingest's SQL: a whole batch in one transaction (group commit), decided by <see cref="IngestPlan"/>;
/// and the rows kept for callbacks that were refused before they got that far.
/// </summary>
public sealed class IngestStore(SqlDatabase db, Archive.ArchiveMode? archive = null)
{
    /// <summary>Callbacks and poll answers: one transaction for the whole batch.</summary>
    /// <param name="timings">When given, filled with where the transaction spent its time (diagnostics).</param>
    public async Task<IReadOnlyList<IngestResult>> IngestAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken, IngestTimings? timings = null)
    {
        timings?.Started = Stopwatch.GetTimestamp();
        // Set-based on purpose: one read of every job in the batch, decisions in memory, then a handful of
        // multi-row statements. Round trips, not rows, are what a batch costs (PostgreSQL especially).
        var results = await db.InTransactionAsync<IReadOnlyList<IngestResult>>(async (c, tx) =>
        {
            timings?.Opened = Stopwatch.GetTimestamp();
            var now = db.Settings.Time.GetUtcNow();
            var jobs = await LoadJobsAsync(c, tx, items.Select(i => i.JobId).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
            var owners = new Dictionary<(string, string), string>();
            foreach (var group in IngestPlan.TaskIdsToCheck(items, jobs))
            {
                foreach (var (taskId, jobId) in await JobRows.TaskOwnersAsync(c, tx, group.Key, group.Distinct(StringComparer.Ordinal).ToList(), cancellationToken))
                {
                    owners[(group.Key, taskId)] = jobId;
                }
            }
            var reprocessed = IngestPlan.ReprocessedCallbacks(items);
            var storedOutcomes = reprocessed.Count == 0 ? null : (await c.QueryAsync<(long Id, string Outcome)>(new CommandDefinition(
                $"SELECT id AS Id, outcome AS Outcome FROM callbacks WHERE {(db.ArrayParameters ? "id = ANY(@ids)" : "id IN @ids")}{db.ForUpdate}", new { ids = reprocessed.ToArray() }, tx, cancellationToken: cancellationToken)))
                .ToDictionary(r => r.Id, r => r.Outcome);
            var plan = IngestPlan.Decide(items, jobs, now, owners, storedOutcomes, archive?.KeepsVideos ?? false);
            timings?.JobsLoaded = Stopwatch.GetTimestamp();
            var inserted = await EventRows.InsertAsync(db, c, tx, plan.Events, cancellationToken);
            if (plan.Events.Count > 0) timings?.EventsInserted = Stopwatch.GetTimestamp();
            var decisions = plan.Settle(inserted);
            await JobRows.UpdateManyAsync(db, c, tx, plan.ChangedJobs, cancellationToken);
            timings?.JobsUpdated = Stopwatch.GetTimestamp();
            var callbackIds = await RecordCallbacksAsync(c, tx, items, decisions, cancellationToken);
            timings?.CallbacksInserted = Stopwatch.GetTimestamp();
            return decisions.Select((d, i) => new IngestResult(callbackIds[i], d.Outcome, d.EventId, d.Reason)).ToList();
        }, cancellationToken);
        timings?.Committed = Stopwatch.GetTimestamp();
        return results;
    }

    public Task<long> RecordRejectedCallbackAsync(RejectedCallback callback, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (c, tx) => (await InsertCallbacksAsync(c, tx,
            [new CallbackRow(callback.Provider, callback.JobId, callback.Raw, callback.Outcome, callback.Reason, null)], cancellationToken))[0], cancellationToken);

    private async Task<Dictionary<string, Job>> LoadJobsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<string> jobIds, CancellationToken ct)
    {
        // Ordered, so two instances locking overlapping batches take the row locks in the same order (no deadlock).
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            $"SELECT {JobRows.Columns} FROM jobs WHERE {db.JobIdInList} ORDER BY job_id{db.ForUpdate}", new { jobIds = jobIds.ToArray() }, tx, cancellationToken: ct));
        return rows.Select(r => r.ToJob()).ToDictionary(j => j.JobId, StringComparer.Ordinal);
    }

    /// <summary>Stores the raw callbacks of the batch (reprocessed ones update their row); answers each item's callback id.</summary>
    private async Task<long?[]> RecordCallbacksAsync(DbConnection c, DbTransaction tx, IReadOnlyList<IngestItem> items, IReadOnlyList<IngestDecision> decisions, CancellationToken ct)
    {
        var ids = new long?[items.Count];
        var fresh = new List<int>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].ReprocessCallbackId is { } existing)
            {
                ids[i] = existing;
                if (!decisions[i].RewritesStoredCallback) continue;
                // The plan decided on the outcome it read, under lock (IngestAsync), so the row is still as read.
                await c.ExecuteAsync(new CommandDefinition("""
                    UPDATE callbacks SET outcome = @outcome, reason = @reason, event_id = COALESCE(@eventId, event_id) WHERE id = @existing
                    """, new { outcome = decisions[i].Outcome, reason = decisions[i].Reason, eventId = decisions[i].EventId, existing }, tx, cancellationToken: ct));
            }
            else if (items[i].Raw is not null)
            {
                fresh.Add(i);
            }
        }
        if (fresh.Count == 0) return ids;
        var keys = await InsertCallbacksAsync(c, tx,
            fresh.Select(i => new CallbackRow(items[i].Provider, decisions[i].JobId, items[i].Raw!, decisions[i].Outcome, decisions[i].Reason, decisions[i].EventId)).ToList(), ct);
        for (var k = 0; k < fresh.Count; k++) ids[fresh[k]] = keys[k];
        return ids;
    }

    private sealed record CallbackRow(string Provider, string? JobId, RawCallback Raw, string Outcome, string? Reason, string? EventId);

    /// <summary>The one insert of stored callbacks, accepted or refused; answers their ids in the rows' order.</summary>
    private async Task<IReadOnlyList<long>> InsertCallbacksAsync(DbConnection c, DbTransaction tx, IReadOnlyList<CallbackRow> rows, CancellationToken ct)
    {
        if (!db.ArrayParameters)
        {
            // SQLite: one statement for the batch (a statement per row cost more than the rows did). Keys are
            // assigned in the array's order, so the sorted keys line up with the rows.
            var json = JsonRows(rows.Select(r => new object?[] { r.Provider, r.JobId, Ms(r.Raw.ReceivedAt), r.Outcome, r.Reason, r.EventId, r.Raw.HeadersJson, r.Raw.Body }));
            return (await c.QueryAsync<long>(new CommandDefinition("""
                INSERT INTO callbacks (provider, job_id, received_at, outcome, reason, event_id, headers, body)
                SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'),
                       json_extract(value, '$[4]'), json_extract(value, '$[5]'), json_extract(value, '$[6]'), json_extract(value, '$[7]')
                FROM jsonb_each(@json) ORDER BY key
                RETURNING id
                """, new { json }, tx, cancellationToken: ct))).Order().ToList();
        }
        // One statement text for any batch (one round trip); identity keys are assigned in row-number order, so the sorted keys line up.
        return (await c.QueryAsync<long>(new CommandDefinition("""
            INSERT INTO callbacks (provider, job_id, received_at, outcome, reason, event_id, headers, body)
            SELECT v.p, v.j, v.r, v.o, v.re, v.e, v.h, v.b
            FROM unnest(@providers, @jobIds, @receivedAts, @outcomes, @reasons, @eventIds, @headers, @bodies)
                WITH ORDINALITY AS v(p, j, r, o, re, e, h, b, n)
            ORDER BY v.n
            RETURNING id
            """, new
            {
                providers = rows.Select(r => r.Provider).ToArray(), jobIds = rows.Select(r => r.JobId).ToArray(),
                receivedAts = rows.Select(r => Ms(r.Raw.ReceivedAt)).ToArray(), outcomes = rows.Select(r => r.Outcome).ToArray(),
                reasons = rows.Select(r => r.Reason).ToArray(), eventIds = rows.Select(r => r.EventId).ToArray(),
                headers = rows.Select(r => r.Raw.HeadersJson).ToArray(), bodies = rows.Select(r => r.Raw.Body).ToArray(),
            }, tx, cancellationToken: ct))).Order().ToList();
    }
}
