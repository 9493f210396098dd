using VideoCallbacks.Api.Events;

namespace VideoCallbacks.Api.Admin;

// The admin API's shapes; the CLI reads the same JSON (src/VideoCallbacks.Cli/ApiModels.cs).

public sealed record AdminEvent(string EventId, long Sequence, string JobId, string Provider, string Type, string Status, int Attempts,
    string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? PublishedAt, DateTimeOffset? NextAttemptAt, string Client = "default")
{
    public static AdminEvent From(StoredEvent e) =>
        new(e.EventId, e.Sequence, e.JobId, e.Provider, e.Type, e.PublishStatus, e.Attempts, e.LastError, e.Time, e.PublishedAt, e.NextAttemptAt, e.Client);
}

public sealed record AdminCallback(long Id, string Provider, string? JobId, DateTimeOffset ReceivedAt, string Outcome, string? Reason, string? EventId)
{
    public static AdminCallback From(StoredCallback c) => new(c.Id, c.Provider, c.JobId, c.ReceivedAt, c.Outcome, c.Reason, c.EventId);
}

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>A bulk replay or purge. Unknown properties are refused: a misspelled "dryRun" must not run for real.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record ReplayFilter(string? Status, string? Provider, string? Type, DateTimeOffset? Since, DateTimeOffset? Until, int? Limit, bool DryRun = false, bool Force = false,
    string? Client = null);

public sealed record EventReplayResult(int Replayed, string? Warning);

public sealed record BulkReplayResult(int Replayed, int Matched, bool DryRun, string? Warning = null);

public sealed record PurgeResult(int Purged, int Matched, bool DryRun);

public sealed record ReprocessResult(long CallbackId, string Outcome, string? EventId);
