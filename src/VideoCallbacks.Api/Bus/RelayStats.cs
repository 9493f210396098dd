using System.Diagnostics;
using System.Globalization;
using System.Text;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Bus;

/// <summary>
/// Where the bus leg spends its time, per interval: how each round was woken (a commit's signal or the poll
/// timer) and how long it had slept, each event's age when its claim began (event time is set inside the
/// ingest transaction, so this is "committed -> claimed" plus the commit itself), and each round's claim,
/// publish (build + send + settle) and mark-published phases, then the event's age once marked. GC pauses
/// and the thread pool's backlog come alongside. Logged by <see cref="OutboxRelay"/> at Debug as one
/// "Relay stats" line per interval; the benchmarks switch it on. Used by the relay loop only.
/// </summary>
public sealed class RelayStats
{
    private readonly List<double> _roundSizes = [];
    private readonly List<double> _sleptMs = [];
    private readonly List<double> _ageAtClaimMs = [];
    private readonly List<double> _claimMs = [];
    private readonly List<double> _publishMs = [];
    private readonly List<double> _markMs = [];
    private readonly List<double> _ageAtMarkedMs = [];
    private int _signalled, _timedOut;
    private long _intervalStart = Stopwatch.GetTimestamp();
    private TimeSpan _gcPause = GC.GetTotalPauseDuration();
    private long _maxPoolQueue;

    /// <summary>Seconds since the interval began.</summary>
    public double Elapsed => Stopwatch.GetElapsedTime(_intervalStart).TotalSeconds;

    public void Woke(bool signalled, TimeSpan slept)
    {
        if (signalled) _signalled++; else _timedOut++;
        _sleptMs.Add(slept.TotalMilliseconds);
    }

    /// <param name="claimStarted">Wall-clock time the claim began, on the same clock as the events' <c>Time</c>.</param>
    /// <param name="marked">Wall-clock time the round's events were marked published.</param>
    public void Round(IReadOnlyList<DateTimeOffset> eventTimes, DateTimeOffset claimStarted, DateTimeOffset marked, long started, long claimed, long publishedAt, long markedAt)
    {
        _roundSizes.Add(eventTimes.Count);
        foreach (var t in eventTimes)
        {
            _ageAtClaimMs.Add((claimStarted - t).TotalMilliseconds);
            _ageAtMarkedMs.Add((marked - t).TotalMilliseconds);
        }
        _claimMs.Add(Stopwatch.GetElapsedTime(started, claimed).TotalMilliseconds);
        _publishMs.Add(Stopwatch.GetElapsedTime(claimed, publishedAt).TotalMilliseconds);
        _markMs.Add(Stopwatch.GetElapsedTime(publishedAt, markedAt).TotalMilliseconds);
        _maxPoolQueue = Math.Max(_maxPoolQueue, ThreadPool.PendingWorkItemCount);
    }

    /// <summary>The interval's summary; starts the next interval.</summary>
    public string TakeSummary()
    {
        var seconds = Elapsed;
        var pause = GC.GetTotalPauseDuration();
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{seconds:F1} s: {_roundSizes.Count} rounds, {_ageAtClaimMs.Count} events; ");
        s.Append(CultureInfo.InvariantCulture, $"woken by signal {_signalled}, by timer {_timedOut}; ");
        s.Append("slept ms ").Append(Percentiles.Format(_sleptMs)).Append("; ");
        s.Append("events per round ").Append(Percentiles.Format(_roundSizes, "F0")).Append("; ");
        s.Append("age at claim ms ").Append(Percentiles.Format(_ageAtClaimMs)).Append("; ");
        s.Append("claim ms ").Append(Percentiles.Format(_claimMs)).Append("; ");
        s.Append("publish ms ").Append(Percentiles.Format(_publishMs)).Append("; ");
        s.Append("mark ms ").Append(Percentiles.Format(_markMs)).Append("; ");
        s.Append("age when marked ms ").Append(Percentiles.Format(_ageAtMarkedMs)).Append("; ");
        s.Append(CultureInfo.InvariantCulture, $"GC pause {(pause - _gcPause).TotalMilliseconds:F0} ms; thread pool queue max {_maxPoolQueue}");

        foreach (var list in (List<double>[])[_roundSizes, _sleptMs, _ageAtClaimMs, _claimMs, _publishMs, _markMs, _ageAtMarkedMs]) list.Clear();
        _signalled = _timedOut = 0;
        _intervalStart = Stopwatch.GetTimestamp();
        _gcPause = pause;
        _maxPoolQueue = 0;
        return s.ToString();
    }
}
