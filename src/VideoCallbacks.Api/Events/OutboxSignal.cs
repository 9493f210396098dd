namespace VideoCallbacks.Api.Events;

/// <summary>Tells the other instances that this one committed events (Redis pub/sub when configured).</summary>
public interface IOutboxPeers
{
    void Publish();
}

/// <summary>
/// "New events were committed" signal. Wakes the relay and SSE streams at once, here and (through
/// <see cref="IOutboxPeers"/>) on the other instances; they also poll on a timer, because a wake-up can be lost.
/// </summary>
/// <remarks>
/// A worker takes <see cref="Next"/> <em>before</em> it looks for work and waits on that: a commit that lands
/// while it looks then completes the wait at once. Taking it after looking would miss that commit and sleep a
/// whole poll interval with work waiting (measured: a tail of up to one poll interval on the bus leg).
/// </remarks>
public sealed class OutboxSignal(IEnumerable<IOutboxPeers> peers)
{
    private readonly IOutboxPeers[] _peers = peers.ToArray();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Notify()
    {
        NotifyLocal();
        foreach (var p in _peers) p.Publish();
    }

    /// <summary>Wakes this instance only: for a notification that came from another instance.</summary>
    public void NotifyLocal() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Completes at the next notification after this read.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Completes when notified or after <paramref name="timeout"/>, whichever is first.</summary>
    public Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct) => WaitAsync(Next, timeout, time, ct);

    /// <summary>Completes when <paramref name="next"/> (a <see cref="Next"/> taken earlier) does, or after <paramref name="timeout"/>.</summary>
    public static async Task WaitAsync(Task next, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        try
        {
            await next.WaitAsync(timeout, time, ct);
        }
        catch (TimeoutException)
        {
            // The timer fallback: go and look anyway.
        }
    }
}
