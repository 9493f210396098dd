using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Archive;

/// <summary>A job whose videos this instance holds the claim to copy.</summary>
public sealed record ArchiveClaim(Job Job, int Attempts, DateTimeOffset StartedAt);

/// <summary>
/// The archive stage's SQL. Work lives on the job row (<c>archive_*</c> columns) and is claimed like the outbox:
/// a lease per owner, renewed while downloading, taken over by anyone once it lapses.
/// </summary>
public sealed class ArchiveStore(SqlDatabase db)
{
    public Task<IReadOnlyList<ArchiveClaim>> ClaimDueAsync(string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken ct) =>
        db.InTransactionAsync<IReadOnlyList<ArchiveClaim>>(async (c, tx) =>
        {
            var claimed = (await c.QueryAsync<(string JobId, long Attempts, long StartedAt)>(new CommandDefinition($"""
                UPDATE jobs SET archive_lease_owner = @owner, archive_lease_until = @until, archive_started_at = COALESCE(archive_started_at, @now)
                WHERE job_id IN (
                    SELECT job_id FROM jobs
                    WHERE archive_next_at IS NOT NULL AND archive_next_at <= @now AND archive_status = 'pending'
                      AND (archive_lease_until IS NULL OR archive_lease_until < @now)
                    ORDER BY archive_next_at LIMIT @limit {db.ForUpdateSkipLocked})
                RETURNING job_id, archive_attempts, archive_started_at
                """, new { owner, now = Ms(now), until = Ms(now + lease), limit }, tx, cancellationToken: ct))).ToList();
            var claims = new List<ArchiveClaim>(claimed.Count);
            foreach (var (jobId, attempts, startedAt) in claimed)
            {
                if (await JobRows.LoadAsync(db, c, tx, jobId, lockRow: false, ct) is { } job) claims.Add(new ArchiveClaim(job, (int)attempts, FromMs(startedAt)!.Value));
            }
            return claims;
        }, ct);

    /// <summary>True while this owner still holds the claim (renewed); false means it lapsed and the work must stop.</summary>
    public async Task<bool> RenewAsync(string owner, string jobId, DateTimeOffset now, TimeSpan lease, CancellationToken ct) =>
        await db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET archive_lease_until = @until
            WHERE job_id = @jobId AND archive_status = 'pending' AND archive_lease_owner = @owner AND archive_lease_until >= @now
            """, new { owner, jobId, now = Ms(now), until = Ms(now + lease) }, cancellationToken: ct)), ct) == 1;

    /// <summary>
    /// Settles a claim in one transaction: the job moves as <paramref name="decide"/> says and its event is written with
    /// it. Nothing happens (false) when this owner no longer holds the claim, so a lapsed worker never settles twice.
    /// </summary>
    public Task<bool> SettleAsync(string owner, string jobId, Func<Job, Transition?> decide, CancellationToken ct) =>
        db.InTransactionAsync(async (c, tx) =>
        {
            var held = await c.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
                $"SELECT archive_lease_owner FROM jobs WHERE job_id = @jobId{db.ForUpdate}", new { jobId }, tx, cancellationToken: ct));
            if (held != owner) return false;
            var job = await JobRows.LoadAsync(db, c, tx, jobId, lockRow: false, ct);
            if (job is null || decide(job) is not { } transition) return false;
            await JobRows.UpdateAsync(c, tx, transition.Job, ct);
            await c.ExecuteAsync(new CommandDefinition("""
                UPDATE jobs SET archive_lease_owner = NULL, archive_lease_until = NULL, archive_started_at = NULL, archive_attempts = 0,
                                archive_last_error = NULL
                WHERE job_id = @jobId
                """, new { jobId }, tx, cancellationToken: ct));
            if (transition.Event is { } e) await EventRows.InsertAsync(db, c, tx, [e], ct);
            return true;
        }, ct);

    /// <summary>Counts a failed attempt and lets go of the claim until <paramref name="next"/>.</summary>
    public Task RetryLaterAsync(string owner, string jobId, string error, DateTimeOffset next, CancellationToken ct) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET archive_attempts = archive_attempts + 1, archive_last_error = @error, archive_next_at = @next,
                            archive_lease_owner = NULL, archive_lease_until = NULL
            WHERE job_id = @jobId AND archive_lease_owner = @owner
            """, new { owner, jobId, error = Truncate(error, 2000), next = Ms(next) }, cancellationToken: ct)), ct);

    /// <summary>Graceful stop: unfinished claims are handed back, so any instance takes them now instead of after the lease.</summary>
    public Task<int> ReleaseAsync(string owner, IReadOnlyList<string> jobIds, CancellationToken ct) =>
        jobIds.Count == 0 ? Task.FromResult(0) : db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition(
            $"UPDATE jobs SET archive_lease_owner = NULL, archive_lease_until = NULL WHERE job_id {(db.ArrayParameters ? "= ANY(@jobIds)" : "IN @jobIds")} AND archive_lease_owner = @owner",
            new { owner, jobIds = jobIds.ToArray() }, cancellationToken: ct)), ct);

    /// <summary>An operator's retry of a failed archive; false when the job has none to retry.</summary>
    public Task<Job?> RequestRetryAsync(string jobId, DateTimeOffset now, CancellationToken ct) =>
        db.InTransactionAsync(async (c, tx) =>
        {
            var job = await JobRows.LoadAsync(db, c, tx, jobId, lockRow: true, ct);
            if (job is null || JobStateMachine.RetryArchive(job, now) is not { } retried) return null;
            await JobRows.UpdateAsync(c, tx, retried, ct);
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE jobs SET archive_attempts = 0, archive_started_at = NULL, archive_last_error = NULL WHERE job_id = @jobId",
                new { jobId }, tx, cancellationToken: ct));
            return (Job?)retried;
        }, ct);

    /// <summary>Archives by status, newest change first, keyset-paged on (updated_at, job_id).</summary>
    public Task<IReadOnlyList<AdminArchiveRow>> ListAsync(string status, (long UpdatedAt, string JobId)? after, int limit, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<AdminArchiveRow>>(async c =>
        {
            var rows = await c.QueryAsync<AdminArchiveRow>(new CommandDefinition($"""
                SELECT job_id AS JobId, provider AS Provider, client AS Client, archive_status AS Status, archive_error_code AS ErrorCode,
                       archive_error_message AS ErrorMessage, archive_last_error AS LastError, archive_attempts AS Attempts,
                       videos AS Videos, updated_at AS UpdatedAt
                FROM jobs
                WHERE archive_status = @status {(after is null ? "" : "AND (updated_at < @at OR (updated_at = @at AND job_id < @id))")}
                ORDER BY updated_at DESC, job_id DESC LIMIT @limit
                """, new { status, at = after?.UpdatedAt, id = after?.JobId, limit }, cancellationToken: ct));
            return rows.ToList();
        }, ct);

    /// <summary>Jobs whose stored videos are older than the retention: their videos go, the job stays.</summary>
    public Task<IReadOnlyList<string>> ArchivedBeforeAsync(DateTimeOffset before, int limit, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<string>>(async c => (await c.QueryAsync<string>(new CommandDefinition("""
            SELECT job_id FROM jobs WHERE archive_status = 'archived' AND updated_at < @before ORDER BY updated_at LIMIT @limit
            """, new { before = Ms(before), limit }, cancellationToken: ct))).ToList(), ct);

    /// <summary>After retention deleted the copies: the job stays, its archive marked expired (its durable URLs now answer 404).</summary>
    public Task MarkExpiredAsync(string jobId, DateTimeOffset now, CancellationToken ct) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition("""
            UPDATE jobs SET archive_status = 'expired', updated_at = @now WHERE job_id = @jobId AND archive_status = 'archived'
            """, new { jobId, now = Ms(now) }, cancellationToken: ct)), ct);
}

public sealed class AdminArchiveRow
{
    public string JobId { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Client { get; set; } = "";
    public string Status { get; set; } = "";
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string? LastError { get; set; }
    public long Attempts { get; set; }
    public string Videos { get; set; } = "[]";
    public long UpdatedAt { get; set; }
}
