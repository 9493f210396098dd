using System.Text.Json.Serialization;

namespace VideoCallbacks.Contracts;

// The admin API's shapes (/v1/admin/*), as the service writes them and the CLI reads them.

public sealed record AdminEvent(string EventId, long Sequence, string JobId, string Provider, string Type, string Status, int Attempts,
    string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? PublishedAt, DateTimeOffset? NextAttemptAt, string Client = "default");

public sealed record AdminCallback(long Id, string Provider, string? JobId, DateTimeOffset ReceivedAt, string Outcome, string? Reason, string? EventId);

public sealed record AuditEntry(long Id, DateTimeOffset At, string AdminKeyId, string Action, string Target, int Count, string? Details);

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>A bulk replay or purge. Unknown properties are refused: a misspelled "dryRun" must not run for real.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ReplayFilter(string? Status, string? Provider, string? Type, DateTimeOffset? Since, DateTimeOffset? Until, int? Limit, bool DryRun = false, bool Force = false,
    string? Client = null);

public sealed record EventReplayResult(int Replayed, string? Warning);

public sealed record BulkReplayResult(int Replayed, int Matched, bool DryRun, string? Warning = null);

public sealed record PurgeResult(int Purged, int Matched, bool DryRun);

public sealed record ReprocessResult(long CallbackId, string Outcome, string? EventId);
