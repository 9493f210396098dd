using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Extensions;

namespace VideoCallbacks.Api.Storage;

/// <summary>Claims an idempotency key for one client: same key + same body = same job.</summary>
public sealed record IdempotencyClaim(string ScopeKey, string RequestHash);

public enum CreateJobOutcome { Created, SameRequest, DifferentRequest }

public sealed record CreateJobResult(CreateJobOutcome Outcome, Job Job);

/// <summary>A raw provider callback as received (headers already stripped of secrets).</summary>
public sealed record RawCallback(string HeadersJson, string Body, DateTimeOffset ReceivedAt);

/// <summary>
/// One unit of work for the single writer: a verified callback or a poll answer.
/// <see cref="Observation"/> is null when the body could not be understood; it is then kept for operators.
/// </summary>
public sealed record IngestItem(
    string Provider,
    string JobId,
    string? ProviderTaskId,
    ProviderObservation? Observation,
    RawCallback? Raw,
    string? Problem = null,
    long? ReprocessCallbackId = null)
{
    /// <summary>W3C trace context of the request that produced this item, taken where it is created (the writer runs elsewhere).</summary>
    public string? TraceParent { get; init; } = System.Diagnostics.Activity.Current?.Id;
}

public static class CallbackOutcomes
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
    public const string Unmatched = "unmatched";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> All = [Accepted, Duplicate, Rejected, Unmatched, Failed];
}

public sealed record IngestResult(long? CallbackId, string Outcome, string? EventId, string? Reason);

/// <summary>A callback that failed verification or matched no job; recorded for operators, never processed.</summary>
public sealed record RejectedCallback(string Provider, string? JobId, string Outcome, string Reason, RawCallback Raw);

public sealed record StoredCallback(
    long Id, string Provider, string? JobId, DateTimeOffset ReceivedAt, string Outcome, string? Reason, string? EventId, string HeadersJson, string Body);

public sealed record CallbackFilter(string? Outcome, string? Provider, DateTimeOffset? Since, DateTimeOffset? Until, long? AfterId, int Limit);

public sealed record EventFilter(string? Status, string? Provider, string? Type, DateTimeOffset? Since, DateTimeOffset? Until, long? AfterSequence, int Limit);

public sealed record AuditEntry(long Id, DateTimeOffset At, string AdminKeyId, string Action, string Target, int Count, string? Details);

/// <summary>
/// The service's only persistence seam. Two implementations (SQLite, PostgreSQL) share the SQL
/// in <see cref="SqlStore"/> and pass one contract test suite.
/// </summary>
public interface IStore
{
    string Name { get; }

    Task MigrateAsync(CancellationToken cancellationToken);
    Task<bool> PingAsync(CancellationToken cancellationToken);

    // Submission
    Task<CreateJobResult> CreateJobAsync(Job job, IdempotencyClaim? claim, CancellationToken cancellationToken);
    Task<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken);
    /// <summary>Binds the provider's task id and writes the submitted event (idempotent: a callback may have done it first).</summary>
    Task<Job> AcceptSubmissionAsync(string jobId, string providerTaskId, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken);
    /// <summary>Records a refused or unknown submission; a refused one can release its idempotency key so a retry resubmits.</summary>
    Task<Job> FailSubmissionAsync(string jobId, string submission, JobError error, string? releaseScopeKey, DateTimeOffset? nextCheckAt, CancellationToken cancellationToken);
    Task<IReadOnlyList<StoredEvent>> GetJobEventsAsync(string jobId, CancellationToken cancellationToken);

    // Event feed
    Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long after, int limit, CancellationToken cancellationToken);
    Task<long> GetLastSequenceAsync(CancellationToken cancellationToken);

    // Callbacks and poll answers: one transaction for the whole batch (group commit).
    Task<IReadOnlyList<IngestResult>> IngestAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken);
    Task<long> RecordRejectedCallbackAsync(RejectedCallback callback, CancellationToken cancellationToken);
    Task<StoredCallback?> GetCallbackAsync(long id, CancellationToken cancellationToken);
    Task<IReadOnlyList<StoredCallback>> ListCallbacksAsync(CallbackFilter filter, CancellationToken cancellationToken);

    // Provider status checks (NanoGPT polling, reconciliation)
    Task<IReadOnlyList<Job>> ClaimDueChecksAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken);
    Task RescheduleCheckAsync(string jobId, DateTimeOffset? nextCheckAt, int attempts, CancellationToken cancellationToken);

    // Outbox relay
    Task<IReadOnlyList<StoredEvent>> ClaimPendingEventsAsync(string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken);
    Task MarkPublishedAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken);
    Task MarkPublishFailedAsync(long sequence, string error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken);
    Task<OutboxStats> GetOutboxStatsAsync(DateTimeOffset now, CancellationToken cancellationToken);

    // Operators
    Task<IReadOnlyList<StoredEvent>> ListEventsAsync(EventFilter filter, CancellationToken cancellationToken);
    Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken);
    /// <summary>Puts events back to pending with a fresh attempt budget; answers how many moved.</summary>
    Task<int> ReplayEventsAsync(IReadOnlyList<long> sequences, bool includePublished, DateTimeOffset now, CancellationToken cancellationToken);
    Task AppendAuditAsync(DateTimeOffset at, string adminKeyId, string action, string target, int count, string? details, CancellationToken cancellationToken);
    Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long? afterId, int limit, CancellationToken cancellationToken);
    /// <summary>Deletes failed events an operator has given up on; other states are left alone.</summary>
    Task<int> PurgeFailedEventsAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken);
    Task<(int Events, int Callbacks)> PruneAsync(DateTimeOffset olderThan, int limit, CancellationToken cancellationToken);
}

public sealed record OutboxStats(long Pending, long Failed, DateTimeOffset? OldestPendingAt);
