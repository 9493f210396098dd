namespace VideoCallbacks.Api.Infrastructure;

/// <summary>
/// At most N takes per clock minute; what is refused is counted and reported once per minute by a timer, so
/// a flood that stops still leaves its count in the log (rather than waiting for the next refusal to say so).
/// </summary>
public sealed class MinuteBudget : IDisposable
{
    private readonly Func<int> _limit;
    private readonly TimeProvider _time;
    private readonly Action<long> _reportDropped;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private long _minute;
    private int _taken;
    private long _dropped;

    /// <param name="limit">Read on every take, so options changes apply at once.</param>
    /// <param name="reportDropped">Called (from a timer) with how many takes were refused in a minute that has ended.</param>
    public MinuteBudget(Func<int> limit, TimeProvider time, Action<long> reportDropped)
    {
        _limit = limit;
        _time = time;
        _reportDropped = reportDropped;
        _minute = Minute();
        _timer = time.CreateTimer(_ => Roll(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
    }

    public bool TryTake()
    {
        long dropped;
        bool taken;
        lock (_gate)
        {
            dropped = RollLocked();
            taken = _taken < _limit();
            if (taken) _taken++;
            else _dropped++;
        }
        if (dropped > 0) _reportDropped(dropped);
        return taken;
    }

    /// <summary>Ends the minute if it is over and reports what it refused.</summary>
    public void Roll()
    {
        long dropped;
        lock (_gate) dropped = RollLocked();
        if (dropped > 0) _reportDropped(dropped);
    }

    public void Dispose() => _timer.Dispose();

    private long RollLocked()
    {
        var minute = Minute();
        if (minute == _minute) return 0;
        var dropped = _dropped;
        _minute = minute;
        _taken = 0;
        _dropped = 0;
        return dropped;
    }

    private long Minute() => _time.GetUtcNow().ToUnixTimeSeconds() / 60;
}
