using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Submissions;

/// <summary>Claims an idempotency key for one client: same key + same body = same job.</summary>
public sealed record IdempotencyClaim(string ScopeKey, string RequestHash)
{
    /// <summary>A key first used before this has expired (Idempotency:Lifetime): the request is a new one.</summary>
    public DateTimeOffset? ExpiredBefore { get; init; }
}

public enum CreateJobOutcome { Created, SameRequest, DifferentRequest }

public sealed record CreateJobResult(CreateJobOutcome Outcome, Job Job);

/// <summary>Submission's SQL: the job row and its idempotency key, then what the provider answered.</summary>
public sealed class SubmissionStore(SqlDatabase db)
{
    public Task<CreateJobResult> CreateJobAsync(Job job, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (c, tx) =>
        {
            if (claim is not null)
            {
                if (claim.ExpiredBefore is { } expired)
                {
                    await c.ExecuteAsync(new CommandDefinition("DELETE FROM idempotency_keys WHERE scope_key = @ScopeKey AND created_at < @before",
                        new { claim.ScopeKey, before = Ms(expired) }, tx, cancellationToken: cancellationToken));
                }
                var inserted = await c.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO idempotency_keys (scope_key, request_hash, job_id, created_at)
                    VALUES (@ScopeKey, @RequestHash, @JobId, @At) ON CONFLICT (scope_key) DO NOTHING
                    """, new { claim.ScopeKey, claim.RequestHash, job.JobId, At = Ms(job.CreatedAt) }, tx, cancellationToken: cancellationToken));
                if (inserted == 0)
                {
                    var existing = await c.QuerySingleAsync<(string RequestHash, string JobId)>(new CommandDefinition(
                        "SELECT request_hash AS RequestHash, job_id AS JobId FROM idempotency_keys WHERE scope_key = @ScopeKey",
                        new { claim.ScopeKey }, tx, cancellationToken: cancellationToken));
                    var existingJob = await JobRows.LoadAsync(db, c, tx, existing.JobId, lockRow: false, cancellationToken)
                        ?? throw new InvalidOperationException($"Idempotency key points at missing job {existing.JobId}.");
                    return new CreateJobResult(
                        existing.RequestHash == claim.RequestHash ? CreateJobOutcome.SameRequest : CreateJobOutcome.DifferentRequest,
                        existingJob);
                }
            }
            await JobRows.InsertAsync(c, tx, job, cancellationToken);
            return new CreateJobResult(CreateJobOutcome.Created, job);
        }, cancellationToken);

    /// <summary>Binds the provider's task id and writes the submitted event (idempotent: a callback may have done it first).</summary>
    public Task<Job> AcceptSubmissionAsync(string jobId, string providerTaskId, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (c, tx) =>
        {
            var job = await JobRows.LoadAsync(db, c, tx, jobId, lockRow: true, cancellationToken)
                ?? throw new InvalidOperationException($"Job {jobId} vanished during submission.");
            if (job.Submission == SubmissionStates.Accepted) return job;
            var owners = await JobRows.TaskOwnersAsync(c, tx, job.Provider, [providerTaskId], cancellationToken);
            var (next, submitted) = JobStateMachine.Accept(job, providerTaskId, owners.GetValueOrDefault(providerTaskId), nextCheckAt, db.Settings.Time.GetUtcNow());
            await JobRows.UpdateManyAsync(db, c, tx, [next], cancellationToken);
            await EventRows.InsertAsync(db, c, tx, submitted is null ? [] : [submitted], cancellationToken);
            return next;
        }, cancellationToken);

    /// <summary>Records a refused or unknown submission; a refused one can release its idempotency key so a retry resubmits.</summary>
    public Task<Job> FailSubmissionAsync(string jobId, string submission, JobError error, string? releaseScopeKey, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (c, tx) =>
        {
            var job = await JobRows.LoadAsync(db, c, tx, jobId, lockRow: true, cancellationToken)
                ?? throw new InvalidOperationException($"Job {jobId} vanished during submission.");
            if (JobStateMachine.FailSubmission(job, submission, error, nextCheckAt, db.Settings.Time.GetUtcNow()) is not { } failed)
            {
                return job;
            }
            await JobRows.UpdateAsync(c, tx, failed, cancellationToken);
            if (releaseScopeKey is not null)
            {
                await c.ExecuteAsync(new CommandDefinition("DELETE FROM idempotency_keys WHERE scope_key = @releaseScopeKey",
                    new { releaseScopeKey }, tx, cancellationToken: cancellationToken));
            }
            return failed;
        }, cancellationToken);

    /// <summary>Forgets idempotency keys first used before <paramref name="before"/>, a batch at a time; the jobs stay (they are the record).</summary>
    public Task<int> PruneIdempotencyKeysAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition("""
            DELETE FROM idempotency_keys WHERE scope_key IN (
                SELECT scope_key FROM idempotency_keys WHERE created_at < @before ORDER BY created_at LIMIT @limit)
            """, new { before = Ms(before), limit }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>A job's events for its public shape, whatever their publish state.</summary>
    public Task<IReadOnlyList<StoredEvent>> GetJobEventsAsync(string jobId, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<StoredEvent>>(async c =>
        {
            var rows = await c.QueryAsync<EventRow>(new CommandDefinition(
                $"SELECT {EventRows.Columns} FROM events WHERE job_id = @jobId ORDER BY sequence", new { jobId }, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToEvent()).ToList();
        }, cancellationToken);
}
