namespace VideoCallbacks.Api.Infrastructure;

/// <summary>The one retry schedule for durable work (the outbox relay, the archive stage).</summary>
public static class Backoff
{
    /// <summary>
    /// Exponential from <paramref name="baseDelay"/> (attempt 1) up to <paramref name="maxDelay"/>, with jitter in
    /// [50%, 100%] so instances that failed together do not retry together. <paramref name="unit"/> in [0, 1) is the
    /// random draw (tests pass a fixed one).
    /// </summary>
    public static TimeSpan Jittered(TimeSpan baseDelay, TimeSpan maxDelay, int attempts, double unit)
    {
        var ms = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30)));
        return TimeSpan.FromMilliseconds(ms * (0.5 + unit / 2));
    }

    public static TimeSpan Jittered(TimeSpan baseDelay, TimeSpan maxDelay, int attempts) =>
        Jittered(baseDelay, maxDelay, attempts, Random.Shared.NextDouble());
}
