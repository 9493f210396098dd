namespace VideoCallbacks.Api.Storage;

public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Versioned schema, shared by both databases. <c>{identity}</c> is the only dialect difference:
/// an auto-increment 64-bit key. Timestamps are Unix milliseconds so both engines sort and compare them alike.
/// Append new migrations; never edit an applied one.
/// </summary>
public static class Schema
{
    public static IReadOnlyList<Migration> For(string identity) => Template
        .Select(m => m with { Sql = m.Sql.Replace("{identity}", identity, StringComparison.Ordinal) })
        .ToList();

    private static readonly Migration[] Template =
    [
        new(1, "jobs, idempotency, outbox, callbacks", """
            CREATE TABLE jobs (
                job_id            TEXT PRIMARY KEY,
                provider          TEXT NOT NULL,
                provider_task_id  TEXT NULL,
                status            TEXT NOT NULL,
                submission        TEXT NOT NULL,
                progress          BIGINT NOT NULL DEFAULT 0,
                video_urls        TEXT NOT NULL DEFAULT '[]',
                error_code        TEXT NULL,
                error_message     TEXT NULL,
                correlation_id    TEXT NULL,
                metadata          TEXT NOT NULL DEFAULT '{}',
                source_task_id    TEXT NULL,
                idx               BIGINT NULL,
                request_json      TEXT NOT NULL,
                token_hash        TEXT NOT NULL,
                secret_hash       TEXT NULL,
                created_at        BIGINT NOT NULL,
                updated_at        BIGINT NOT NULL,
                next_check_at     BIGINT NULL,
                check_attempts    BIGINT NOT NULL DEFAULT 0,
                check_lease_until BIGINT NULL
            );
            CREATE UNIQUE INDEX ux_jobs_provider_task ON jobs (provider, provider_task_id) WHERE provider_task_id IS NOT NULL;
            CREATE INDEX ix_jobs_next_check ON jobs (next_check_at) WHERE next_check_at IS NOT NULL;

            CREATE TABLE idempotency_keys (
                scope_key    TEXT PRIMARY KEY,
                request_hash TEXT NOT NULL,
                job_id       TEXT NOT NULL,
                created_at   BIGINT NOT NULL
            );

            CREATE TABLE events (
                sequence        {identity},
                event_id        TEXT NOT NULL UNIQUE,
                job_id          TEXT NOT NULL,
                provider        TEXT NOT NULL,
                type            TEXT NOT NULL,
                job_status      TEXT NOT NULL,
                correlation_id  TEXT NULL,
                time            BIGINT NOT NULL,
                data            TEXT NOT NULL,
                status          TEXT NOT NULL,
                attempts        BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                lease_owner     TEXT NULL,
                lease_until     BIGINT NULL,
                last_error      TEXT NULL,
                published_at    BIGINT NULL
            );
            CREATE INDEX ix_events_job ON events (job_id, sequence);
            CREATE INDEX ix_events_status ON events (status, sequence);

            CREATE TABLE callbacks (
                id          {identity},
                provider    TEXT NOT NULL,
                job_id      TEXT NULL,
                received_at BIGINT NOT NULL,
                outcome     TEXT NOT NULL,
                reason      TEXT NULL,
                event_id    TEXT NULL,
                headers     TEXT NOT NULL,
                body        TEXT NOT NULL
            );
            CREATE INDEX ix_callbacks_outcome ON callbacks (outcome, id);
            CREATE INDEX ix_callbacks_job ON callbacks (job_id);
            """),
        new(2, "operator audit", """
            CREATE TABLE audit (
                id           {identity},
                at           BIGINT NOT NULL,
                admin_key_id TEXT NOT NULL,
                action       TEXT NOT NULL,
                target       TEXT NOT NULL,
                count        BIGINT NOT NULL,
                details      TEXT NULL
            );
            """),
        new(3, "pending-only outbox indexes", """
            CREATE INDEX ix_events_pending ON events (sequence) WHERE status = 'pending';
            CREATE INDEX ix_events_pending_job ON events (job_id, sequence) WHERE status = 'pending';
            """),
        new(4, "trace context of the request that caused an event", """
            ALTER TABLE events ADD COLUMN trace_parent TEXT NULL;
            """),
        new(5, "tenants: the client each job and event belongs to", """
            ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT 'default';
            ALTER TABLE events ADD COLUMN client TEXT NOT NULL DEFAULT 'default';
            CREATE INDEX ix_events_client ON events (client, sequence);
            """),
        new(6, "Data Protection key ring, shared by every instance", """
            CREATE TABLE dataprotection_keys (
                id            {identity},
                friendly_name TEXT NOT NULL,
                xml           TEXT NOT NULL,
                created_at    BIGINT NOT NULL
            );
            """),
        new(7, "archived videos and the archive stage's claims", """
            ALTER TABLE jobs ADD COLUMN videos TEXT NOT NULL DEFAULT '[]';
            ALTER TABLE jobs ADD COLUMN archive_status TEXT NULL;
            ALTER TABLE jobs ADD COLUMN archive_error_code TEXT NULL;
            ALTER TABLE jobs ADD COLUMN archive_error_message TEXT NULL;
            ALTER TABLE jobs ADD COLUMN archive_next_at BIGINT NULL;
            ALTER TABLE jobs ADD COLUMN archive_attempts BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN archive_started_at BIGINT NULL;
            ALTER TABLE jobs ADD COLUMN archive_last_error TEXT NULL;
            ALTER TABLE jobs ADD COLUMN archive_lease_owner TEXT NULL;
            ALTER TABLE jobs ADD COLUMN archive_lease_until BIGINT NULL;
            CREATE INDEX ix_jobs_archive_due ON jobs (archive_next_at) WHERE archive_next_at IS NOT NULL;
            CREATE INDEX ix_jobs_archive_failed ON jobs (updated_at, job_id) WHERE archive_status = 'failed';
            """),
        new(8, "dashboard sessions and the dashboard's lookups", """
            CREATE TABLE dashboard_sessions (
                session_hash TEXT PRIMARY KEY,
                admin_key_id TEXT NOT NULL,
                created_at   BIGINT NOT NULL,
                revoked_at   BIGINT NULL
            );
            CREATE INDEX ix_dashboard_sessions_created ON dashboard_sessions (created_at);
            CREATE INDEX ix_jobs_correlation ON jobs (correlation_id) WHERE correlation_id IS NOT NULL;
            CREATE INDEX ix_callbacks_received ON callbacks (received_at);
            CREATE INDEX ix_audit_action ON audit (action, id);
            """),
    ];
}
