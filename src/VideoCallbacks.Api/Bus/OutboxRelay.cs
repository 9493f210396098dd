using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Bus;

public sealed class RelayOptions : IValidatableObject
{
    public const string Section = "Relay";

    [Range(1, 1000, ErrorMessage = "Relay:MaxAttempts must be between {1} and {2}.")]
    public int MaxAttempts { get; set; } = 12;

    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00", ErrorMessage = "Relay:BaseDelay must be between {1} and {2}.")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00", ErrorMessage = "Relay:MaxDelay must be between {1} and {2}.")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    [Range(1, 1000, ErrorMessage = "Relay:BatchSize must be between {1} and {2}.")]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// How long a claim lasts unless renewed; the relay renews it every third of this while a publish is in flight,
    /// so it can be short: a crashed holder's events become claimable after it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Relay:Lease must be between {1} and {2}.")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Fallback wake-up for events committed by other instances.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00", ErrorMessage = "Relay:PollInterval must be between {1} and {2}.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxDelay < BaseDelay)
        {
            yield return new ValidationResult("Relay:MaxDelay must not be shorter than Relay:BaseDelay.", [nameof(MaxDelay)]);
        }
    }
}

/// <summary>
/// Moves committed events from the outbox to the bus: claims pending events in sequence order
/// (with a lease, so instances share the work), publishes them, marks them published. Failures back
/// off exponentially with jitter; configuration failures retry slowly and loudly; after MaxAttempts
/// (or at once, for a message the bus can never take) the event is failed and waits for an operator.
/// </summary>
public sealed class OutboxRelay(
    OutboxStore store,
    IEventPublisher publisher,
    OutboxSignal signal,
    BusReadiness readiness,
    IOptions<RelayOptions> options,
    TimeProvider time,
    Telemetry telemetry,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    /// <summary>Names this instance's claims in the outbox (for diagnosis; leases, not owners, decide who may publish).</summary>
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>Diagnostics at Debug only: where the bus leg's latency goes (see <see cref="RelayStats"/>).</summary>
    private static readonly TimeSpan StatsInterval = TimeSpan.FromSeconds(5);

    private readonly RelayStats? _stats = logger.IsEnabled(LogLevel.Debug) ? new RelayStats() : null;

    /// <summary>Set by <see cref="PublishAsync"/> for the round's diagnostics: when the publish returned and the marks landed.</summary>
    private long _publishReturned, _marked;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        // Connect before the first event needs it: opening the AMQP connection and link takes hundreds of ms.
        await publisher.WarmUpAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before claiming, so an event committed during the claim still wakes the wait below.
            var next = signal.Next;
            IReadOnlyList<StoredEvent> claimed = [];
            try
            {
                var round = telemetry.Now();
                var claimStarted = time.GetUtcNow();
                claimed = await store.ClaimPendingEventsAsync(_owner, claimStarted, o.Lease, o.BatchSize, stoppingToken);
                if (claimed.Count > 0)
                {
                    var claimedAt = telemetry.Now();
                    await PublishHoldingLeaseAsync(claimed, stoppingToken);
                    if (_stats is not null) RecordRound(claimed, claimStarted, round, claimedAt);
                    // A full batch may have left more behind. Otherwise claim again only once something new is
                    // committed (the wait returns at once if that happened during this round): an empty claim
                    // after every round cost a transaction per round. Retries and expired leases are the timer's.
                    if (claimed.Count == o.BatchSize) continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                await ReleaseAsync(claimed);
                return;
            }
            catch (LeaseLostException e)
            {
                logger.LogWarning("Outbox relay abandoned a publish of {Count} events: {Reason}; whoever holds them now publishes them", claimed.Count, e.Message);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Outbox relay round failed (store unreachable?); retrying");
            }
            try
            {
                var sleeping = telemetry.Now();
                await OutboxSignal.WaitAsync(next, o.PollInterval, time, stoppingToken);
                _stats?.Woke(next.IsCompleted, System.Diagnostics.Stopwatch.GetElapsedTime(sleeping));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void RecordRound(IReadOnlyList<StoredEvent> claimed, DateTimeOffset claimStarted, long round, long claimedAt)
    {
        _stats!.Round(claimed.Select(e => e.Time).ToList(), claimStarted, time.GetUtcNow(), round, claimedAt, _publishReturned, _marked);
        if (_stats.Elapsed >= StatsInterval.TotalSeconds) logger.LogDebug("Relay stats {Stats}", _stats.TakeSummary());
    }

    /// <summary>Publishes while holding the claim (<see cref="LeaseHold"/>): never two publishers for one claim.</summary>
    private Task PublishHoldingLeaseAsync(IReadOnlyList<StoredEvent> claimed, CancellationToken stoppingToken)
    {
        var sequences = claimed.Select(e => e.Sequence).ToList();
        var lease = options.Value.Lease;
        return LeaseHold.RunAsync(ct => PublishAsync(claimed, ct), async ct =>
        {
            var held = await store.RenewClaimsAsync(_owner, sequences, time.GetUtcNow(), lease, ct);
            return held == sequences.Count ? null : $"the lease on {sequences.Count - held} of {sequences.Count} claimed events had expired";
        }, lease, time, stoppingToken);
    }

    /// <summary>Graceful stop: unfinished claims are handed back, so any instance retries them now instead of after the lease.</summary>
    private async Task ReleaseAsync(IReadOnlyList<StoredEvent> claimed)
    {
        if (claimed.Count == 0) return;
        try
        {
            // The host bounds the whole stop with HostOptions:ShutdownTimeout; if this does not land, the lease still expires.
            var released = await store.ReleaseClaimsAsync(_owner, claimed.Select(e => e.Sequence).ToList(), CancellationToken.None);
            logger.LogInformation("Outbox relay stopping: released {Count} claimed events for any instance to publish", released);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Outbox relay stopping: could not release {Count} claimed events; they become claimable when the lease expires", claimed.Count);
        }
    }

    private async Task PublishAsync(IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        var started = telemetry.Now();
        using var activity = Telemetry.Source.StartActivity("relay.publish", System.Diagnostics.ActivityKind.Producer);
        activity?.SetTag("messaging.batch.message_count", events.Count);
        var outgoing = events.Select(e => new OutgoingEvent(e.Sequence, e.EventId, e.Type, e.JobId, e.Provider, e.JobStatus, e.CorrelationId, e.ToCloudEventJson(), e.TraceParent) { Client = e.Client }).ToList();
        var results = await publisher.PublishAsync(outgoing, ct);
        _publishReturned = telemetry.Now();
        var now = time.GetUtcNow();
        var byId = results.ToDictionary(r => r.EventId);

        var published = events.Where(e => byId.TryGetValue(e.EventId, out var r) && r.Published).ToList();
        // Marking published must not be skipped because the host is stopping: the bus already has them.
        await store.MarkPublishedAsync(published.Select(e => e.Sequence).ToList(), now, CancellationToken.None);
        _marked = telemetry.Now();
        if (published.Count > 0)
        {
            telemetry.Published(published.Count, started, published.Select(e => now - e.Time));
            readiness.Report(null);
        }

        foreach (var e in events.Where(e => !published.Contains(e)))
        {
            var r = byId.GetValueOrDefault(e.EventId) ?? PublishResult.Failed(e.EventId, PublishFailureKind.Transient, "the publisher gave no result");
            var kind = r.Failure ?? PublishFailureKind.Transient;
            var attempts = e.Attempts + 1;
            telemetry.PublishFailed(kind.ToString());
            DateTimeOffset? next = kind == PublishFailureKind.Permanent || attempts >= options.Value.MaxAttempts
                ? null
                : now + Delay(kind, attempts);
            if (kind == PublishFailureKind.Configuration)
            {
                readiness.Report($"{publisher.Name}: {r.Error}");
                logger.LogError("Event {EventId}: the bus refused it as misconfigured ({Error}); check Bus:ServiceBus settings. Attempt {Attempt} of {Max}",
                    e.EventId, r.Error, attempts, options.Value.MaxAttempts);
            }
            else
            {
                logger.LogWarning("Event {EventId}: publish attempt {Attempt} of {Max} failed ({Kind}): {Error}", e.EventId, attempts, options.Value.MaxAttempts, kind, r.Error);
            }
            if (next is null)
            {
                logger.LogError("Event {EventId} of job {JobId} is now failed after {Attempts} attempts: {Error}. Replay it with the admin API or CLI.",
                    e.EventId, e.JobId, attempts, r.Error);
            }
            await store.MarkPublishFailedAsync(e.Sequence, $"{kind}: {r.Error}", next, CancellationToken.None, _owner);
        }
    }

    /// <summary>Exponential backoff with jitter (<see cref="Backoff"/>); configuration problems wait the longest.</summary>
    private TimeSpan Delay(PublishFailureKind kind, int attempts)
    {
        var o = options.Value;
        return kind == PublishFailureKind.Configuration
            ? Backoff.Jittered(o.MaxDelay, o.MaxDelay, 1)
            : Backoff.Jittered(o.BaseDelay, o.MaxDelay, attempts);
    }
}
