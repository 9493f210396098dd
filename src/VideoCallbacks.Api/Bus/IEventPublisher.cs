namespace VideoCallbacks.Api.Bus;

/// <summary>One committed outbox event, ready to leave the process.</summary>
/// <param name="CloudEventJson">The complete CloudEvent (structured mode, sequence included), UTF-8 JSON text.</param>
/// <param name="TraceParent">W3C trace context of the request that caused the event (null when none was recorded).</param>
public sealed record OutgoingEvent(
    long Sequence,
    string EventId,
    string Type,
    string JobId,
    string Provider,
    string Status,
    string? CorrelationId,
    string CloudEventJson,
    string? TraceParent = null)
{
    /// <summary>The tenant the event belongs to; subscriptions filter on the <c>client</c> property.</summary>
    public string Client { get; init; } = Security.AuthOptions.DefaultClient;
}

public enum PublishFailureKind
{
    /// <summary>Busy, timed out, unreachable, general errors: retry with backoff.</summary>
    Transient,
    /// <summary>Unauthorized, entity not found or disabled, quota exceeded: an operator must act; retry slowly and shout.</summary>
    Configuration,
    /// <summary>The message can never be accepted (over the size limit): fail it at once.</summary>
    Permanent,
}

/// <summary>What happened to one event of a publish call.</summary>
public sealed record PublishResult(string EventId, bool Published, PublishFailureKind? Failure = null, string? Error = null)
{
    public static PublishResult Ok(string eventId) => new(eventId, true);
    public static PublishResult Failed(string eventId, PublishFailureKind kind, string error) => new(eventId, false, kind, error);
}

/// <summary>A transport that takes committed events to subscribers.</summary>
public interface IEventPublisher
{
    /// <summary>Transport name for logs and readiness ("Embedded", "ServiceBus").</summary>
    string Name { get; }

    /// <summary>
    /// Publishes the events in the given order and reports on every one of them.
    /// Never throws for broker failures; those come back as failed results.
    /// </summary>
    Task<IReadOnlyList<PublishResult>> PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken);

    /// <summary>
    /// Opens whatever the first publish would otherwise open (connection, link), so the first events after a start
    /// do not pay for it. Never throws: a broker that is away shows in the first publish's results instead.
    /// </summary>
    Task WarmUpAsync(CancellationToken cancellationToken);
}
