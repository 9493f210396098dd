namespace VideoCallbacks.TestBroker;

/// <summary>What the broker does to the next transfers (or put-tokens) while a fault is armed.</summary>
public enum BrokerFault
{
    /// <summary>Rejected <c>com.microsoft:server-busy</c>: the SDK's ServiceBusy (transient).</summary>
    ServerBusy,

    /// <summary>Rejected <c>com.microsoft:timeout</c>: ServiceTimeout (transient).</summary>
    Timeout,

    /// <summary>Rejected <c>amqp:internal-error</c>: GeneralError (transient).</summary>
    InternalError,

    /// <summary>Rejected <c>amqp:resource-limit-exceeded</c>: QuotaExceeded.</summary>
    QuotaExceeded,

    /// <summary>Rejected <c>amqp:not-found</c> (and attaches refused): MessagingEntityNotFound.</summary>
    EntityNotFound,

    /// <summary>Rejected <c>com.microsoft:entity-disabled</c>: MessagingEntityDisabled.</summary>
    EntityDisabled,

    /// <summary>put-token answered 401 and transfers rejected <c>amqp:unauthorized-access</c>: UnauthorizedAccessException.</summary>
    Unauthorized,

    /// <summary>The transfer is never settled: the client's try timeout decides.</summary>
    NeverSettle,

    /// <summary>The messages are stored, then the connection is dropped before the answer: an in-doubt send.</summary>
    DropAfterStore,

    /// <summary>The messages are stored but the transfer is never settled: in doubt until the sender gives up (or dies).</summary>
    StoreWithoutAnswer,
}

/// <summary>One message as the topic kept it, with everything the sender set.</summary>
public sealed record BrokerMessage(
    long SequenceNumber,
    DateTimeOffset EnqueuedAt,
    string Topic,
    string? MessageId,
    string? CorrelationId,
    string? Subject,
    string? SessionId,
    string? ContentType,
    byte[] BodyBytes,
    IReadOnlyDictionary<string, object?> ApplicationProperties)
{
    public string Body => System.Text.Encoding.UTF8.GetString(BodyBytes);

    public string? Property(string name) => ApplicationProperties.TryGetValue(name, out var v) ? v?.ToString() : null;
}

/// <summary>One transfer on a sending link (a single message or a batch) and what the broker answered.</summary>
/// <param name="Outcome"><c>accepted</c>, an error condition, <c>never-settled</c>, <c>dropped-after-store</c> or <c>stored-unanswered</c>.</param>
public sealed record BrokerTransfer(IReadOnlyList<string> MessageIds, string Outcome, int ConnectionNumber)
{
    /// <summary>The broker took the messages (duplicate detection then decided whether to keep them), answered or not.</summary>
    public bool Accepted => Outcome is "accepted" or "dropped-after-store" or "stored-unanswered";
}

/// <summary>Settings of a <see cref="LocalServiceBus"/>.</summary>
public sealed class LocalServiceBusOptions
{
    /// <summary>0: pick a free port.</summary>
    public int Port { get; set; }

    public string KeyName { get; set; } = "RootManageSharedAccessKey";

    public string Key { get; set; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string Topic { get; set; } = "video-extensions";

    /// <summary>Subscriptions that get a copy of every message on the topic (no filters).</summary>
    public IList<string> Subscriptions { get; } = ["all"];

    /// <summary>Advertised as <c>max-message-size</c> on the links clients send on (Standard tier: 256 KiB).</summary>
    public ulong MaxMessageSize { get; set; } = 256 * 1024;

    /// <summary>Duplicate detection window by MessageId (the topic must have duplicate detection on).</summary>
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(10);

    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Called with each stored message (after duplicate detection), on the broker's I/O thread: keep it short.</summary>
    public Action<BrokerMessage>? OnStored { get; set; }
}
