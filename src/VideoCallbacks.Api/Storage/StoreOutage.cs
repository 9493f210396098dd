using System.Data.Common;

namespace VideoCallbacks.Api.Storage;

/// <summary>
/// Says once when the database becomes unreachable and once when it is back (with how many requests were answered
/// 503 meanwhile), instead of an Error with a stack trace per refused request; as the Redis state changes do.
/// </summary>
public sealed class StoreOutage(TimeProvider time, ILogger<StoreOutage> logger)
{
    private int _down;
    private long _refused;
    private long _sinceMs;

    public bool IsDown => Volatile.Read(ref _down) == 1;

    /// <summary>Down, restarting, out of connections: transient by the driver's own judgement, a connection failure
    /// (SQLSTATE class 08) or the server going away (57P01-57P03).</summary>
    public static bool IsUnreachable(Exception e) => e is DbException db &&
        (db.IsTransient || db.SqlState is { } state && (state.StartsWith("08", StringComparison.Ordinal) || state is "57P01" or "57P02" or "57P03"));

    public void ConnectionFailed(Exception e)
    {
        if (Interlocked.Exchange(ref _down, 1) == 1) return;
        Interlocked.Exchange(ref _sinceMs, time.GetUtcNow().ToUnixTimeMilliseconds());
        logger.LogWarning("The database is unreachable ({Reason}); requests that need it are answered 503 until it is back",
            Infrastructure.Problems.Shorten(e.Message));
    }

    /// <summary>A request answered 503 because of the outage: counted, not logged.</summary>
    public void RequestRefused() => Interlocked.Increment(ref _refused);

    public void ConnectionSucceeded()
    {
        if (Volatile.Read(ref _down) == 0 || Interlocked.Exchange(ref _down, 0) == 0) return;
        var seconds = (time.GetUtcNow().ToUnixTimeMilliseconds() - Interlocked.Read(ref _sinceMs)) / 1000.0;
        logger.LogWarning("The database is reachable again after {Seconds:0.#} s; {Refused} requests were answered 503 meanwhile",
            seconds, Interlocked.Exchange(ref _refused, 0));
    }
}
