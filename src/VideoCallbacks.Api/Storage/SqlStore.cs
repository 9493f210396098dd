using System.Data.Common;
using System.Text.Json;
using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Extensions;

namespace VideoCallbacks.Api.Storage;

/// <summary>
/// The SQL both engines share. Subclasses supply connections, migrations and the few
/// dialect differences (row locks, the outbox sequence lock).
/// </summary>
public abstract class SqlStore(StoreSettings settings) : IStore
{
    private const string JobColumns = """
        job_id AS JobId, provider AS Provider, provider_task_id AS ProviderTaskId, status AS Status, submission AS Submission,
        progress AS Progress, video_urls AS VideoUrls, error_code AS ErrorCode, error_message AS ErrorMessage,
        correlation_id AS CorrelationId, metadata AS Metadata, source_task_id AS SourceTaskId, idx AS Idx,
        request_json AS RequestJson, token_hash AS TokenHash, secret_hash AS SecretHash, created_at AS CreatedAt,
        updated_at AS UpdatedAt, next_check_at AS NextCheckAt, check_attempts AS CheckAttempts
        """;

    private const string EventColumns = """
        sequence AS Sequence, event_id AS EventId, job_id AS JobId, provider AS Provider, type AS Type, job_status AS JobStatus,
        correlation_id AS CorrelationId, time AS Time, data AS Data, status AS Status, attempts AS Attempts,
        next_attempt_at AS NextAttemptAt, last_error AS LastError, published_at AS PublishedAt, trace_parent AS TraceParent
        """;

    private const string CallbackColumns = """
        id AS Id, provider AS Provider, job_id AS JobId, received_at AS ReceivedAt, outcome AS Outcome, reason AS Reason,
        event_id AS EventId, headers AS Headers, body AS Body
        """;

    public abstract string Name { get; }

    protected StoreSettings Settings { get; } = settings;

    protected abstract DbConnection CreateConnection();

    /// <summary>Row lock for read-modify-write inside a transaction (empty where the engine serializes writers).</summary>
    protected virtual string ForUpdate => "";

    /// <summary>Lets several instances claim disjoint rows.</summary>
    protected virtual string ForUpdateSkipLocked => "";

    /// <summary>
    /// Matches <c>sequence</c> against the list parameter <c>@sequences</c> (an array): Dapper expands it for
    /// SQLite, but hands PostgreSQL one array parameter, which only <c>= ANY(..)</c> accepts.
    /// </summary>
    protected virtual string SequenceInList => "sequence IN @sequences";

    /// <summary>
    /// Whether several statements should share one command. Worth it over a network (one round trip);
    /// an in-process engine gains nothing and may bind every parameter to every statement.
    /// </summary>
    protected virtual bool BatchStatements => false;

    /// <summary>Multi-row inserts save round trips; SQLite binds by name in linear time, so many parameters cost it more than they save.</summary>
    private int RowsPerInsert => BatchStatements ? 200 : 1;

    /// <summary>The same for <c>job_id</c> against <c>@jobIds</c>.</summary>
    protected virtual string JobIdInList => "job_id IN @jobIds";

    /// <summary>
    /// Called once per transaction before it inserts events, so sequence numbers become visible in order
    /// (a feed reader must never see 7 and later find 6).
    /// </summary>
    protected virtual Task LockOutboxAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct) => Task.CompletedTask;

    public abstract Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Held around every write. PostgreSQL needs nothing here; SQLite has one writer at a time and, when it is busy,
    /// makes the others sleep and poll, so its store queues writers in process instead (no lost milliseconds).
    /// </summary>
    protected virtual ValueTask<IDisposable?> EnterWriterAsync(CancellationToken ct) => ValueTask.FromResult<IDisposable?>(null);

    protected async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = CreateConnection();
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var c = await OpenAsync(cancellationToken);
            await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return true;
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- submission

    public async Task<CreateJobResult> CreateJobAsync(Job job, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        if (claim is not null)
        {
            var inserted = await c.ExecuteAsync(new CommandDefinition("""
                INSERT INTO idempotency_keys (scope_key, request_hash, job_id, created_at)
                VALUES (@ScopeKey, @RequestHash, @JobId, @At) ON CONFLICT (scope_key) DO NOTHING
                """, new { claim.ScopeKey, claim.RequestHash, job.JobId, At = Ms(job.CreatedAt) }, tx, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                var existing = await c.QuerySingleAsync<(string RequestHash, string JobId)>(new CommandDefinition(
                    "SELECT request_hash AS RequestHash, job_id AS JobId FROM idempotency_keys WHERE scope_key = @ScopeKey",
                    new { claim.ScopeKey }, tx, cancellationToken: cancellationToken));
                var existingJob = await LoadJobAsync(c, tx, existing.JobId, lockRow: false, cancellationToken)
                    ?? throw new InvalidOperationException($"Idempotency key points at missing job {existing.JobId}.");
                await tx.CommitAsync(cancellationToken);
                return new CreateJobResult(
                    existing.RequestHash == claim.RequestHash ? CreateJobOutcome.SameRequest : CreateJobOutcome.DifferentRequest,
                    existingJob);
            }
        }
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO jobs (job_id, provider, provider_task_id, status, submission, progress, video_urls, error_code, error_message,
                correlation_id, metadata, source_task_id, idx, request_json, token_hash, secret_hash, created_at, updated_at,
                next_check_at, check_attempts)
            VALUES (@JobId, @Provider, @ProviderTaskId, @Status, @Submission, @Progress, @VideoUrls, @ErrorCode, @ErrorMessage,
                @CorrelationId, @Metadata, @SourceTaskId, @Idx, @RequestJson, @TokenHash, @SecretHash, @CreatedAt, @UpdatedAt,
                @NextCheckAt, @CheckAttempts)
            """, JobRow.From(job), tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
        return new CreateJobResult(CreateJobOutcome.Created, job);
    }

    public async Task<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return await LoadJobAsync(c, null, jobId, lockRow: false, cancellationToken);
    }

    public async Task<Job> AcceptSubmissionAsync(string jobId, string providerTaskId, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var job = await LoadJobAsync(c, tx, jobId, lockRow: true, cancellationToken)
            ?? throw new InvalidOperationException($"Job {jobId} vanished during submission.");
        if (job.Submission != SubmissionStates.Accepted)
        {
            var events = new List<NewEvent>();
            job = Bind(job, providerTaskId, nextCheckAt, Settings.Time.GetUtcNow(), events);
            await UpdateJobsAsync(c, tx, [job], cancellationToken);
            await InsertEventsAsync(c, tx, events, cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return job;
    }

    public async Task<Job> FailSubmissionAsync(string jobId, string submission, JobError error, string? releaseScopeKey, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var job = await LoadJobAsync(c, tx, jobId, lockRow: true, cancellationToken)
            ?? throw new InvalidOperationException($"Job {jobId} vanished during submission.");
        if (job.Submission == SubmissionStates.Accepted)
        {
            // A callback got here first, so the provider has the task after all.
            await tx.CommitAsync(cancellationToken);
            return job;
        }
        var now = Settings.Time.GetUtcNow();
        job = job with
        {
            Submission = submission,
            Status = submission == SubmissionStates.Rejected ? JobStatuses.Failed : job.Status,
            Error = error,
            UpdatedAt = now,
            NextCheckAt = submission == SubmissionStates.Rejected ? null : nextCheckAt,
        };
        await UpdateJobAsync(c, tx, job, cancellationToken);
        if (releaseScopeKey is not null)
        {
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM idempotency_keys WHERE scope_key = @releaseScopeKey",
                new { releaseScopeKey }, tx, cancellationToken: cancellationToken));
        }
        await tx.CommitAsync(cancellationToken);
        return job;
    }

    public async Task<IReadOnlyList<StoredEvent>> GetJobEventsAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var rows = await c.QueryAsync<EventRow>(new CommandDefinition(
            $"SELECT {EventColumns} FROM events WHERE job_id = @jobId ORDER BY sequence", new { jobId }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToEvent()).ToList();
    }

    // ---------------------------------------------------------------- feed

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long after, int limit, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var rows = await c.QueryAsync<EventRow>(new CommandDefinition(
            $"SELECT {EventColumns} FROM events WHERE sequence > @after ORDER BY sequence LIMIT @limit",
            new { after, limit }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToEvent()).ToList();
    }

    public async Task<long> GetLastSequenceAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return await c.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT MAX(sequence) FROM events", cancellationToken: cancellationToken)) ?? 0;
    }

    // ---------------------------------------------------------------- ingest (group commit)

    public async Task<IReadOnlyList<IngestResult>> IngestAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken)
    {
        // Set-based on purpose: one read of every job in the batch, decisions in memory, then a handful of
        // multi-row statements. Round trips, not rows, are what a batch costs (PostgreSQL especially).
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var now = Settings.Time.GetUtcNow();
        var jobs = await LoadJobsAsync(c, tx, items.Select(i => i.JobId).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
        var changed = new Dictionary<string, Job>(StringComparer.Ordinal);
        var events = new List<NewEvent>();
        var plans = new Plan[items.Count];

        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (!jobs.TryGetValue(item.JobId, out var job) || job.Provider != item.Provider)
            {
                plans[i] = new Plan(null, CallbackOutcomes.Unmatched, "no such job for this provider", null);
                continue;
            }
            if (item.ProviderTaskId is { Length: > 0 } taskId)
            {
                if (job.ProviderTaskId is null)
                {
                    // The callback raced the provider's answer to our submit: bind the task here.
                    var bound = events.Count;
                    job = changed[job.JobId] = jobs[job.JobId] = Bind(job, taskId, job.NextCheckAt, now, events);
                    TraceFrom(events, bound, item.TraceParent);
                }
                else if (!string.Equals(job.ProviderTaskId, taskId, StringComparison.Ordinal))
                {
                    plans[i] = new Plan(job.JobId, CallbackOutcomes.Rejected, "task id does not match the job", null);
                    continue;
                }
            }
            if (item.Observation is null)
            {
                plans[i] = new Plan(job.JobId, CallbackOutcomes.Failed, item.Problem ?? "body not understood", null);
                continue;
            }
            var transition = JobStateMachine.Apply(job, item.Observation, now);
            switch (transition.Kind)
            {
                case TransitionKind.Advanced:
                    changed[job.JobId] = jobs[job.JobId] = transition.Job;
                    events.Add(transition.Event!);
                    TraceFrom(events, events.Count - 1, item.TraceParent);
                    plans[i] = new Plan(job.JobId, CallbackOutcomes.Accepted, null, transition.Event!.EventId);
                    break;
                case TransitionKind.Anomaly:
                    plans[i] = new Plan(job.JobId, CallbackOutcomes.Duplicate, "anomaly: " + transition.Note, null);
                    break;
                default:
                    plans[i] = new Plan(job.JobId, CallbackOutcomes.Duplicate, transition.Note, null);
                    break;
            }
        }

        var inserted = await InsertEventsAsync(c, tx, events, cancellationToken);
        for (var i = 0; i < plans.Length; i++)
        {
            if (plans[i].EventId is { } id && !inserted.Contains(id))
            {
                plans[i] = plans[i] with { Outcome = CallbackOutcomes.Duplicate, Reason = "event already exists" };
            }
        }
        await UpdateJobsAsync(c, tx, changed.Values.ToList(), cancellationToken);
        var callbackIds = await RecordCallbacksAsync(c, tx, items, plans, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return plans.Select((p, i) => new IngestResult(callbackIds[i], p.Outcome, p.EventId, p.Reason)).ToList();
    }

    private readonly record struct Plan(string? JobId, string Outcome, string? Reason, string? EventId);

    /// <summary>
    /// Group commit plans on the writer's thread, so an event takes the trace of the request whose callback made it
    /// (captured in <see cref="IngestItem.TraceParent"/>), not the writer's.
    /// </summary>
    private static void TraceFrom(List<NewEvent> events, int from, string? traceParent)
    {
        if (traceParent is null) return;
        for (var k = from; k < events.Count; k++) events[k] = events[k] with { TraceParent = traceParent };
    }

    /// <summary>Binds the provider's task id; a job still at "submitted" announces itself with its submitted event.</summary>
    private static Job Bind(Job job, string providerTaskId, DateTimeOffset? nextCheckAt, DateTimeOffset now, List<NewEvent> events)
    {
        job = job with
        {
            ProviderTaskId = providerTaskId,
            Submission = SubmissionStates.Accepted,
            Error = job.Status == JobStatuses.Submitted ? null : job.Error,
            UpdatedAt = now,
            NextCheckAt = nextCheckAt,
        };
        if (job.Status == JobStatuses.Submitted) events.Add(NewEvent.For(job, now));
        return job;
    }

    private async Task<Dictionary<string, Job>> LoadJobsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<string> jobIds, CancellationToken ct)
    {
        // Ordered, so two instances locking overlapping batches take the row locks in the same order (no deadlock).
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition(
            $"SELECT {JobColumns} FROM jobs WHERE {JobIdInList} ORDER BY job_id{ForUpdate}", new { jobIds = jobIds.ToArray() }, tx, cancellationToken: ct));
        return rows.Select(r => r.ToJob()).ToDictionary(j => j.JobId, StringComparer.Ordinal);
    }

    /// <summary>Inserts events in order (their sequence follows); answers the ids that were new.</summary>
    private async Task<HashSet<string>> InsertEventsAsync(DbConnection c, DbTransaction tx, List<NewEvent> events, CancellationToken ct)
    {
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        if (events.Count == 0) return inserted;
        await LockOutboxAsync(c, tx, ct);
        var status = Settings.PublishedOnCommit ? PublishStatuses.Published : PublishStatuses.Pending;
        foreach (var chunk in events.Chunk(RowsPerInsert))
        {
            var p = new DynamicParameters();
            var rows = new List<string>(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
            {
                var e = chunk[i];
                var at = Ms(e.Time);
                p.Add($"id{i}", e.EventId); p.Add($"j{i}", e.JobId); p.Add($"p{i}", e.Provider); p.Add($"t{i}", e.Type);
                p.Add($"s{i}", e.JobStatus); p.Add($"c{i}", e.CorrelationId); p.Add($"at{i}", at); p.Add($"d{i}", e.DataJson);
                p.Add($"pub{i}", Settings.PublishedOnCommit ? at : null, System.Data.DbType.Int64);
                p.Add($"tp{i}", e.TraceParent, System.Data.DbType.String);
                rows.Add($"(@id{i}, @j{i}, @p{i}, @t{i}, @s{i}, @c{i}, @at{i}, @d{i}, @status, 0, @at{i}, @pub{i}, @tp{i})");
            }
            p.Add("status", status);
            var ids = await c.QueryAsync<string>(new CommandDefinition($"""
                INSERT INTO events (event_id, job_id, provider, type, job_status, correlation_id, time, data, status, attempts, next_attempt_at, published_at, trace_parent)
                VALUES {string.Join(", ", rows)}
                ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                """, p, tx, cancellationToken: ct));
            inserted.UnionWith(ids);
        }
        return inserted;
    }

    private async Task UpdateJobsAsync(DbConnection c, DbTransaction tx, List<Job> jobs, CancellationToken ct)
    {
        if (!BatchStatements)
        {
            foreach (var job in jobs) await UpdateJobAsync(c, tx, job, ct);
            return;
        }
        // One UPDATE ... FROM (VALUES ...) for the batch: one round trip, one parse, one plan.
        foreach (var chunk in jobs.Chunk(100))
        {
            var p = new DynamicParameters();
            var rows = new List<string>(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
            {
                var r = JobRow.From(chunk[i]);
                p.Add($"id{i}", r.JobId, System.Data.DbType.String); p.Add($"tk{i}", r.ProviderTaskId, System.Data.DbType.String);
                p.Add($"st{i}", r.Status, System.Data.DbType.String); p.Add($"sb{i}", r.Submission, System.Data.DbType.String);
                p.Add($"pg{i}", r.Progress, System.Data.DbType.Int64); p.Add($"vu{i}", r.VideoUrls, System.Data.DbType.String);
                p.Add($"ec{i}", r.ErrorCode, System.Data.DbType.String); p.Add($"em{i}", r.ErrorMessage, System.Data.DbType.String);
                p.Add($"ua{i}", r.UpdatedAt, System.Data.DbType.Int64); p.Add($"nc{i}", r.NextCheckAt, System.Data.DbType.Int64);
                p.Add($"ca{i}", r.CheckAttempts, System.Data.DbType.Int64);
                rows.Add($"(@id{i}, @tk{i}, @st{i}, @sb{i}, @pg{i}, @vu{i}, @ec{i}, @em{i}, @ua{i}, @nc{i}, @ca{i})");
            }
            await c.ExecuteAsync(new CommandDefinition($"""
                UPDATE jobs AS j SET provider_task_id = v.tk, status = v.st, submission = v.sb, progress = v.pg, video_urls = v.vu,
                    error_code = v.ec, error_message = v.em, updated_at = v.ua, next_check_at = v.nc, check_attempts = v.ca
                FROM (VALUES {string.Join(", ", rows)}) AS v(id, tk, st, sb, pg, vu, ec, em, ua, nc, ca)
                WHERE j.job_id = v.id
                """, p, tx, cancellationToken: ct));
        }
    }

    /// <summary>Stores the raw callbacks of the batch (reprocessed ones update their row); answers each item's callback id.</summary>
    private async Task<long?[]> RecordCallbacksAsync(DbConnection c, DbTransaction tx, IReadOnlyList<IngestItem> items, Plan[] plans, CancellationToken ct)
    {
        var ids = new long?[items.Count];
        var fresh = new List<int>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].ReprocessCallbackId is { } existing)
            {
                // A reprocessed callback keeps its history unless the rerun changed something: an accepted callback
                // that now reads as a duplicate of itself stays accepted.
                await c.ExecuteAsync(new CommandDefinition("""
                    UPDATE callbacks SET outcome = @outcome, reason = @reason, event_id = COALESCE(@eventId, event_id)
                    WHERE id = @existing AND (outcome = 'failed' OR @outcome = 'accepted')
                    """, new { outcome = plans[i].Outcome, reason = plans[i].Reason, eventId = plans[i].EventId, existing }, tx, cancellationToken: ct));
                ids[i] = existing;
            }
            else if (items[i].Raw is not null)
            {
                fresh.Add(i);
            }
        }
        foreach (var chunk in fresh.Chunk(RowsPerInsert))
        {
            var p = new DynamicParameters();
            var rows = new List<string>(chunk.Length);
            for (var k = 0; k < chunk.Length; k++)
            {
                var (item, plan) = (items[chunk[k]], plans[chunk[k]]);
                p.Add($"p{k}", item.Provider); p.Add($"j{k}", plan.JobId); p.Add($"r{k}", Ms(item.Raw!.ReceivedAt)); p.Add($"o{k}", plan.Outcome);
                p.Add($"re{k}", plan.Reason); p.Add($"e{k}", plan.EventId); p.Add($"h{k}", item.Raw.HeadersJson); p.Add($"b{k}", item.Raw.Body);
                rows.Add($"(@p{k}, @j{k}, @r{k}, @o{k}, @re{k}, @e{k}, @h{k}, @b{k})");
            }
            // Keys are assigned in VALUES order, so the sorted keys line up with the rows.
            var keys = (await c.QueryAsync<long>(new CommandDefinition($"""
                INSERT INTO callbacks (provider, job_id, received_at, outcome, reason, event_id, headers, body)
                VALUES {string.Join(", ", rows)} RETURNING id
                """, p, tx, cancellationToken: ct))).Order().ToList();
            for (var k = 0; k < chunk.Length; k++) ids[chunk[k]] = keys[k];
        }
        return ids;
    }

    private static Task<long> InsertCallbackAsync(DbConnection c, DbTransaction? tx, string provider, string? jobId, string outcome, string? reason, string? eventId, RawCallback raw, CancellationToken ct) =>
        c.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO callbacks (provider, job_id, received_at, outcome, reason, event_id, headers, body)
            VALUES (@provider, @jobId, @receivedAt, @outcome, @reason, @eventId, @headers, @body) RETURNING id
            """, new { provider, jobId, receivedAt = Ms(raw.ReceivedAt), outcome, reason, eventId, headers = raw.HeadersJson, body = raw.Body },
            tx, cancellationToken: ct));

    public async Task<long> RecordRejectedCallbackAsync(RejectedCallback callback, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        return await InsertCallbackAsync(c, null, callback.Provider, callback.JobId, callback.Outcome, callback.Reason, null, callback.Raw, cancellationToken);
    }

    public async Task<StoredCallback?> GetCallbackAsync(long id, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var row = await c.QuerySingleOrDefaultAsync<CallbackRow>(new CommandDefinition(
            $"SELECT {CallbackColumns} FROM callbacks WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        return row?.ToCallback();
    }

    public async Task<IReadOnlyList<StoredCallback>> ListCallbacksAsync(CallbackFilter filter, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (filter.Outcome is not null) where.Add("outcome = @Outcome");
        if (filter.Provider is not null) where.Add("provider = @Provider");
        if (filter.Since is not null) where.Add("received_at >= @SinceMs");
        if (filter.Until is not null) where.Add("received_at < @UntilMs");
        if (filter.AfterId is not null) where.Add("id > @AfterId");
        var sql = $"SELECT {CallbackColumns} FROM callbacks {Where(where)} ORDER BY id LIMIT @Limit";
        await using var c = await OpenAsync(cancellationToken);
        var rows = await c.QueryAsync<CallbackRow>(new CommandDefinition(sql, new
        {
            filter.Outcome, filter.Provider, SinceMs = Ms(filter.Since), UntilMs = Ms(filter.Until), filter.AfterId, filter.Limit,
        }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToCallback()).ToList();
    }

    // ---------------------------------------------------------------- provider checks

    public async Task<IReadOnlyList<Job>> ClaimDueChecksAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var rows = await c.QueryAsync<JobRow>(new CommandDefinition($"""
            UPDATE jobs SET check_lease_until = @until
            WHERE job_id IN (
                SELECT job_id FROM jobs
                WHERE next_check_at IS NOT NULL AND next_check_at <= @now
                  AND (check_lease_until IS NULL OR check_lease_until < @now)
                ORDER BY next_check_at LIMIT @limit {ForUpdateSkipLocked})
            RETURNING {JobColumns}
            """, new { now = Ms(now), until = Ms(now + lease), limit }, tx, cancellationToken: cancellationToken));
        var jobs = rows.Select(r => r.ToJob()).ToList();
        await tx.CommitAsync(cancellationToken);
        return jobs;
    }

    public async Task RescheduleCheckAsync(string jobId, DateTimeOffset? nextCheckAt, int attempts, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        // Terminal jobs keep a null schedule whatever a slow poller thinks.
        await c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET next_check_at = CASE WHEN status IN ('completed', 'failed') THEN NULL ELSE @next END,
                            check_attempts = @attempts, check_lease_until = NULL
            WHERE job_id = @jobId
            """, new { jobId, next = Ms(nextCheckAt), attempts }, cancellationToken: cancellationToken));
    }

    // ---------------------------------------------------------------- outbox

    public async Task<IReadOnlyList<StoredEvent>> ClaimPendingEventsAsync(string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
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
                ORDER BY e.sequence LIMIT @limit {ForUpdateSkipLocked})
            RETURNING {EventColumns}
            """, new { owner, now = Ms(now), until = Ms(now + lease), limit }, tx, cancellationToken: cancellationToken));
        var events = rows.Select(r => r.ToEvent()).OrderBy(e => e.Sequence).ToList();
        await tx.CommitAsync(cancellationToken);
        return events;
    }

    public async Task MarkPublishedAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return;
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET status = 'published', published_at = @now, attempts = attempts + 1, last_error = NULL,
                              lease_owner = NULL, lease_until = NULL
            WHERE {SequenceInList}
            """, new { now = Ms(now), sequences = sequences.ToArray() }, cancellationToken: cancellationToken));
    }

    public async Task MarkPublishFailedAsync(long sequence, string error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await c.ExecuteAsync(new CommandDefinition("""
            UPDATE events SET attempts = attempts + 1, last_error = @error,
                              status = CASE WHEN @next IS NULL THEN 'failed' ELSE 'pending' END,
                              next_attempt_at = COALESCE(@next, next_attempt_at),
                              lease_owner = NULL, lease_until = NULL
            WHERE sequence = @sequence
            """, new { sequence, error = Truncate(error, 2000), next = Ms(nextAttemptAt) }, cancellationToken: cancellationToken));
    }

    public async Task<OutboxStats> GetOutboxStatsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var row = await c.QuerySingleAsync<(long Pending, long Failed, long? Oldest)>(new CommandDefinition("""
            SELECT (SELECT COUNT(*) FROM events WHERE status = 'pending') AS Pending,
                   (SELECT COUNT(*) FROM events WHERE status = 'failed') AS Failed,
                   (SELECT MIN(time) FROM events WHERE status = 'pending') AS Oldest
            """, cancellationToken: cancellationToken));
        return new OutboxStats(row.Pending, row.Failed, FromMs(row.Oldest));
    }

    // ---------------------------------------------------------------- operators

    public async Task<IReadOnlyList<StoredEvent>> ListEventsAsync(EventFilter filter, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (filter.Status is not null) where.Add("status = @Status");
        if (filter.Provider is not null) where.Add("provider = @Provider");
        if (filter.Type is not null) where.Add("type = @Type");
        if (filter.Since is not null) where.Add("time >= @SinceMs");
        if (filter.Until is not null) where.Add("time < @UntilMs");
        if (filter.AfterSequence is not null) where.Add("sequence > @AfterSequence");
        var sql = $"SELECT {EventColumns} FROM events {Where(where)} ORDER BY sequence LIMIT @Limit";
        await using var c = await OpenAsync(cancellationToken);
        var rows = await c.QueryAsync<EventRow>(new CommandDefinition(sql, new
        {
            filter.Status, filter.Provider, filter.Type, SinceMs = Ms(filter.Since), UntilMs = Ms(filter.Until), filter.AfterSequence, filter.Limit,
        }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToEvent()).ToList();
    }

    public async Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var row = await c.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
            $"SELECT {EventColumns} FROM events WHERE event_id = @eventId", new { eventId }, cancellationToken: cancellationToken));
        return row?.ToEvent();
    }

    public async Task<int> ReplayEventsAsync(IReadOnlyList<long> sequences, bool includePublished, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return 0;
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        return await c.ExecuteAsync(new CommandDefinition($"""
            UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = @now, last_error = NULL,
                              lease_owner = NULL, lease_until = NULL
            WHERE {SequenceInList} AND (status = 'failed' OR (@includePublished = 1 AND status = 'published'))
            """, new { sequences = sequences.ToArray(), includePublished = includePublished ? 1 : 0, now = Ms(now) }, cancellationToken: cancellationToken));
    }

    public async Task AppendAuditAsync(DateTimeOffset at, string adminKeyId, string action, string target, int count, string? details, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO audit (at, admin_key_id, action, target, count, details) VALUES (@at, @adminKeyId, @action, @target, @count, @details)
            """, new { at = Ms(at), adminKeyId, action, target = Truncate(target, 1000), count, details = Truncate(details, 4000) },
            cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long? afterId, int limit, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var rows = await c.QueryAsync<(long Id, long At, string AdminKeyId, string Action, string Target, long Count, string? Details)>(
            new CommandDefinition("""
                SELECT id AS Id, at AS At, admin_key_id AS AdminKeyId, action AS Action, target AS Target, count AS Count, details AS Details
                FROM audit WHERE id > @afterId ORDER BY id LIMIT @limit
                """, new { afterId = afterId ?? 0, limit }, cancellationToken: cancellationToken));
        return rows.Select(r => new AuditEntry(r.Id, FromMs(r.At)!.Value, r.AdminKeyId, r.Action, r.Target, (int)r.Count, r.Details)).ToList();
    }

    public async Task<int> PurgeFailedEventsAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0) return 0;
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
        return await c.ExecuteAsync(new CommandDefinition($"DELETE FROM events WHERE {SequenceInList} AND status = 'failed'",
            new { sequences }, cancellationToken: cancellationToken));
    }

    public async Task<(int Events, int Callbacks)> PruneAsync(DateTimeOffset olderThan, int limit, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var c = await OpenAsync(cancellationToken);
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
    }

    // ---------------------------------------------------------------- helpers

    private async Task<Job?> LoadJobAsync(DbConnection c, DbTransaction? tx, string jobId, bool lockRow, CancellationToken ct)
    {
        var row = await c.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(
            $"SELECT {JobColumns} FROM jobs WHERE job_id = @jobId{(lockRow ? ForUpdate : "")}", new { jobId }, tx, cancellationToken: ct));
        return row?.ToJob();
    }

    private static Task UpdateJobAsync(DbConnection c, DbTransaction tx, Job job, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET provider_task_id = @ProviderTaskId, status = @Status, submission = @Submission, progress = @Progress,
                video_urls = @VideoUrls, error_code = @ErrorCode, error_message = @ErrorMessage, updated_at = @UpdatedAt,
                next_check_at = @NextCheckAt, check_attempts = @CheckAttempts
            WHERE job_id = @JobId
            """, JobRow.From(job), tx, cancellationToken: ct));

    private static string Where(List<string> clauses) => clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max];

    internal static long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();

    internal static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    internal static DateTimeOffset? FromMs(long? ms) => ms is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms.Value);

    private sealed class JobRow
    {
        public string JobId { get; set; } = "";
        public string Provider { get; set; } = "";
        public string? ProviderTaskId { get; set; }
        public string Status { get; set; } = "";
        public string Submission { get; set; } = "";
        public long Progress { get; set; }
        public string VideoUrls { get; set; } = "[]";
        public string? ErrorCode { get; set; }
        public string? ErrorMessage { get; set; }
        public string? CorrelationId { get; set; }
        public string Metadata { get; set; } = "{}";
        public string? SourceTaskId { get; set; }
        public long? Idx { get; set; }
        public string RequestJson { get; set; } = "";
        public string TokenHash { get; set; } = "";
        public string? SecretHash { get; set; }
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
        public long? NextCheckAt { get; set; }
        public long CheckAttempts { get; set; }

        public static JobRow From(Job j) => new()
        {
            JobId = j.JobId, Provider = j.Provider, ProviderTaskId = j.ProviderTaskId, Status = j.Status, Submission = j.Submission,
            Progress = j.Progress, VideoUrls = JsonSerializer.Serialize(j.VideoUrls), ErrorCode = j.Error?.Code, ErrorMessage = j.Error?.Message,
            CorrelationId = j.CorrelationId, Metadata = JsonSerializer.Serialize(j.Metadata), SourceTaskId = j.SourceTaskId, Idx = j.Index,
            RequestJson = j.RequestJson, TokenHash = j.TokenHash, SecretHash = j.SecretHash, CreatedAt = Ms(j.CreatedAt),
            UpdatedAt = Ms(j.UpdatedAt), NextCheckAt = Ms(j.NextCheckAt), CheckAttempts = j.CheckAttempts,
        };

        public Job ToJob() => new()
        {
            JobId = JobId, Provider = Provider, ProviderTaskId = ProviderTaskId, Status = Status, Submission = Submission,
            Progress = (int)Progress, VideoUrls = JsonSerializer.Deserialize<List<string>>(VideoUrls) ?? [],
            Error = ErrorCode is null ? null : new JobError(ErrorCode, ErrorMessage ?? ""),
            CorrelationId = CorrelationId, Metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(Metadata) ?? [],
            SourceTaskId = SourceTaskId, Index = (int?)Idx, RequestJson = RequestJson, TokenHash = TokenHash, SecretHash = SecretHash,
            CreatedAt = FromMs(CreatedAt)!.Value, UpdatedAt = FromMs(UpdatedAt)!.Value, NextCheckAt = FromMs(NextCheckAt),
            CheckAttempts = (int)CheckAttempts,
        };
    }

    private sealed class EventRow
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

        public StoredEvent ToEvent() => new()
        {
            Sequence = Sequence, EventId = EventId, JobId = JobId, Provider = Provider, Type = Type, JobStatus = JobStatus,
            CorrelationId = CorrelationId, Time = FromMs(Time)!.Value, DataJson = Data, PublishStatus = Status,
            Attempts = (int)Attempts, NextAttemptAt = Status == PublishStatuses.Pending ? FromMs(NextAttemptAt) : null,
            LastError = LastError, PublishedAt = FromMs(PublishedAt), TraceParent = TraceParent,
        };
    }

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

/// <summary>What every store needs beyond its connection string.</summary>
public sealed record StoreSettings(TimeProvider Time, bool PublishedOnCommit);
