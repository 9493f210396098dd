using System.Text.Json;

namespace VideoCallbacks.Cli;

/// <summary>A typed result plus the exact JSON text the service answered (for <c>--json</c>).</summary>
public sealed record ApiResponse<T>(T Value, string RawJson);

/// <summary>One page of a cursor-paged admin list.</summary>
public sealed record Page<T>(IReadOnlyList<T>? Items, string? NextCursor)
{
    public IReadOnlyList<T> ItemsOrEmpty => Items ?? [];
}

public sealed record AdminEvent(
    string EventId,
    long Sequence,
    string? JobId,
    string? Provider,
    string? Type,
    string? Status,
    int Attempts,
    string? LastError,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? PublishedAt,
    DateTimeOffset? NextAttemptAt);

public sealed record EventReplayResult(int Replayed, string? Warning);

public sealed record ReplayFilter(
    string? Status,
    string? Provider,
    string? Type,
    string? Since,
    string? Until,
    int? Limit,
    bool DryRun,
    bool Force);

public sealed record BulkReplayResult(int Replayed, int Matched, bool DryRun);

public sealed record EventQuery(
    string? Status = null,
    string? Provider = null,
    string? Type = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    int? Limit = null,
    string? Cursor = null);

public sealed record AdminCallback(
    long Id,
    string? Provider,
    string? JobId,
    DateTimeOffset? ReceivedAt,
    string? Outcome,
    string? Reason,
    string? EventId);

public sealed record CallbackQuery(
    string? Outcome = null,
    string? Provider = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    int? Limit = null,
    string? Cursor = null);

public sealed record ReprocessResult(long CallbackId, string? Outcome, string? EventId);

public sealed record AuditEntry(
    long Id,
    DateTimeOffset? At,
    string? AdminKeyId,
    string? Action,
    string? Target,
    int Count,
    string? Details);

public sealed record Job(
    string JobId,
    string? Provider,
    string? ProviderTaskId,
    string? Status,
    int? Progress,
    IReadOnlyList<string>? VideoUrls,
    JobError? Error,
    string? CorrelationId,
    IReadOnlyDictionary<string, JsonElement>? Metadata,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt,
    IReadOnlyList<JobEvent>? Events);

public sealed record JobError(string? Code, string? Message);

public sealed record JobEvent(string? Id, string? Type, DateTimeOffset? Time);

/// <summary>RFC 9457 problem details.</summary>
public sealed record ProblemDetails(
    string? Type,
    string? Title,
    int? Status,
    string? Detail,
    IReadOnlyDictionary<string, string[]>? Errors);
