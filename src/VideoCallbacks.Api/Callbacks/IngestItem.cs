using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Callbacks;

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
