namespace VideoCallbacks.Api.Events;

/// <summary>
/// In-process "new events were committed" signal. Wakes the relay and SSE streams at once;
/// they also poll on a timer because other instances commit events too.
/// </summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Notify() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

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
