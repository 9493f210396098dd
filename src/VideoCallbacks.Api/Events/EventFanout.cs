using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Events;

/// <summary>An event as the streams send it: serialized once, for every stream.</summary>
public sealed record FanoutEvent(long Sequence, string Client, string Type, string Json);

/// <summary>
/// What the shared reader has seen: every event with <c>Floor &lt; sequence &lt;= Head</c>, in order, and a task that
/// completes when there is a newer snapshot. Not <see cref="Ready"/> while no stream is open (the reader is idle).
/// </summary>
public sealed record FanoutSnapshot(bool Ready, long Floor, long Head, FanoutEvent[] Events, Task Changed)
{
    /// <summary>The events after <paramref name="position"/>; the caller checks <c>position &gt;= Floor</c> first.</summary>
    public ReadOnlySpan<FanoutEvent> After(long position)
    {
        int lo = 0, hi = Events.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (Events[mid].Sequence <= position) lo = mid + 1; else hi = mid;
        }
        return Events.AsSpan(lo);
    }
}

/// <summary>
/// One reader for every open event stream on this instance: it queries the store once per wake-up (a commit here,
/// another instance's commit via Redis, or the poll timer) and fans the new events out, so a thousand idle streams
/// cost one query a second, not a thousand. Streams that are far behind (a catch-up from sequence 0) read the store
/// themselves until they reach the window kept here. With no stream open the reader does nothing.
/// </summary>
public sealed class EventFanout(FeedQueries feed, OutboxSignal signal, IOptions<EventFeedOptions> options, TimeProvider time, ILogger<EventFanout> logger)
    : BackgroundService
{
    /// <summary>Recent events kept for streams that fall a little behind (a slow client, a burst).</summary>
    public const int Window = 4096;

    private const int PageSize = 500;

    private TaskCompletionSource _changed = NewSource();
    private FanoutSnapshot? _snapshot;
    private TaskCompletionSource _wake = NewSource();
    private int _streams;

    private FanoutSnapshot Dormant() => new(false, 0, 0, [], Volatile.Read(ref _changed).Task);

    public FanoutSnapshot Current => Volatile.Read(ref _snapshot) ?? Interlocked.CompareExchange(ref _snapshot, Dormant(), null) ?? _snapshot;

    public int OpenStreams => Volatile.Read(ref _streams);

    /// <summary>Registers an open stream (dispose it when the stream ends); the reader starts if it was idle.</summary>
    public IDisposable Subscribe()
    {
        Interlocked.Increment(ref _streams);
        Volatile.Read(ref _wake).TrySetResult();
        return new Subscription(this);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before reading, so a commit during the read still wakes the wait below.
            var next = signal.Next;
            try
            {
                if (Volatile.Read(ref _streams) == 0)
                {
                    // Set the wake-up before looking again, so a stream that subscribes in between is never missed.
                    var wake = NewSource();
                    Volatile.Write(ref _wake, wake);
                    if (Volatile.Read(ref _streams) == 0)
                    {
                        if (Current.Ready) Publish(Dormant());
                        await wake.Task.WaitAsync(stoppingToken);
                        continue;
                    }
                }
                var current = Current;
                if (!current.Ready)
                {
                    var newest = await feed.NewestSequenceAsync(stoppingToken);
                    Publish(new FanoutSnapshot(true, newest, newest, [], Task.CompletedTask));
                    continue;
                }
                var rows = await feed.ReadEventsAsync(current.Head, PageSize, stoppingToken);
                if (rows.Count > 0)
                {
                    Publish(Append(current, rows));
                    if (rows.Count == PageSize) continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                // The store is away (StoreOutage says so once); the streams stay open and the next wake-up tries again.
                logger.LogDebug("The event streams' reader could not read the store: {Error}", e.Message);
            }
            await OutboxSignal.WaitAsync(next, options.Value.PollInterval, time, stoppingToken);
        }
    }

    private static FanoutSnapshot Append(FanoutSnapshot current, IReadOnlyList<StoredEvent> rows)
    {
        var added = rows.Select(e => new FanoutEvent(e.Sequence, e.Client, e.Type, e.ToCloudEventJson()));
        var all = current.Events.Concat(added).ToArray();
        var floor = current.Floor;
        if (all.Length > Window)
        {
            floor = all[all.Length - Window - 1].Sequence;
            all = all[^Window..];
        }
        return new FanoutSnapshot(true, floor, rows[^1].Sequence, all, Task.CompletedTask);
    }

    /// <summary>Makes <paramref name="next"/> current and wakes every stream waiting on the one before.</summary>
    private void Publish(FanoutSnapshot next)
    {
        var changed = NewSource();
        var previous = Interlocked.Exchange(ref _changed, changed);
        Volatile.Write(ref _snapshot, next with { Changed = changed.Task });
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Subscription(EventFanout owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._streams);
        }
    }
}
