using Dapper;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Providers;

/// <summary>When to ask a provider about a job next (NanoGPT polling, reconciliation of silent jobs).</summary>
public sealed class CheckScheduleStore(SqlDatabase db)
{
    /// <summary>Claims due jobs under a lease, so several instances never ask about the same job at once.</summary>
    public Task<IReadOnlyList<Job>> ClaimDueChecksAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        db.InTransactionAsync<IReadOnlyList<Job>>(async (c, tx) =>
        {
            var rows = await c.QueryAsync<JobRow>(new CommandDefinition($"""
                UPDATE jobs SET check_lease_until = @until
                WHERE job_id IN (
                    SELECT job_id FROM jobs
                    WHERE next_check_at IS NOT NULL AND next_check_at <= @now
                      AND (check_lease_until IS NULL OR check_lease_until < @now)
                    ORDER BY next_check_at LIMIT @limit {db.ForUpdateSkipLocked})
                RETURNING {JobRows.Columns}
                """, new { now = Ms(now), until = Ms(now + lease), limit }, tx, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToJob()).ToList();
        }, cancellationToken);

    public Task RescheduleCheckAsync(string jobId, DateTimeOffset? nextCheckAt, int attempts, CancellationToken cancellationToken) =>
        // Terminal jobs keep a null schedule whatever a slow poller thinks.
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET next_check_at = CASE WHEN status IN ('completed', 'failed') THEN NULL ELSE @next END,
                            check_attempts = @attempts, check_lease_until = NULL
            WHERE job_id = @jobId
            """, new { jobId, next = Ms(nextCheckAt), attempts }, cancellationToken: cancellationToken)), cancellationToken);
}
