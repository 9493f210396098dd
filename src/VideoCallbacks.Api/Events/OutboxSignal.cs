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

    /// <summary>Completes when notified or after <paramref name="timeout"/>, whichever is first.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        try
        {
            await Volatile.Read(ref _next).Task.WaitAsync(timeout, time, ct);
        }
        catch (TimeoutException)
        {
            // The timer fallback: go and look anyway.
        }
    }
}
