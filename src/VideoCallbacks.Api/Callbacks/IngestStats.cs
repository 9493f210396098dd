using System.Diagnostics;
using System.Globalization;
using System.Text;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Where one group-commit transaction spent its time (<see cref="Stopwatch"/> timestamps, 0 = not reached).
/// Filled by <see cref="IngestStore"/> only when the writer asks, so the hot path pays nothing otherwise.
/// </summary>
public sealed class IngestTimings
{
    public long Started { get; set; }
    public long Opened { get; set; }
    public long JobsLoaded { get; set; }
    public long EventsInserted { get; set; }
    public long JobsUpdated { get; set; }
    public long CallbacksInserted { get; set; }
    public long Committed { get; set; }
}

/// <summary>
/// The ingest tail explained without guessing: per interval, group-commit batch sizes, how long callbacks
/// waited in the writer's queue, how long each transaction phase took (the outbox sequence lock is held
/// from the events phase until the commit returns), GC pauses and the thread pool's backlog. Logged by
/// <see cref="IngestWriter"/> at Debug (category <c>VideoCallbacks.Api.Callbacks.IngestWriter</c>) as
/// one "Ingest stats" line per interval; benchmarks switch it on. Used by the single writer only.
/// </summary>
public sealed class IngestStats
{
    private readonly List<double> _batchSizes = [];
    private readonly List<double> _queueWaitMs = [];
    private readonly List<double> _inWriterMs = [];
    private readonly List<double> _txMs = [];
    private readonly List<double> _lockHeldMs = [];
    private readonly double[] _phaseTotals = new double[6];
    private readonly double[] _phaseMax = new double[6];
    private static readonly string[] PhaseNames = ["open+begin", "load jobs", "lock+events", "update jobs", "insert callbacks", "commit"];
    private long _intervalStart = Stopwatch.GetTimestamp();
    private TimeSpan _gcPause = GC.GetTotalPauseDuration();
    private readonly int[] _gcCounts = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private long _maxPoolQueue;
    private int _maxThreads;

    public int Batches => _batchSizes.Count;

    /// <summary>Seconds since the interval began.</summary>
    public double Elapsed => Stopwatch.GetElapsedTime(_intervalStart).TotalSeconds;

    /// <param name="enqueued">When each item of the batch was handed to the writer.</param>
    /// <param name="batchStarted">When the writer took the batch off its queue.</param>
    public void Record(IReadOnlyList<long> enqueued, long batchStarted, IngestTimings t)
    {
        _batchSizes.Add(enqueued.Count);
        foreach (var e in enqueued)
        {
            _queueWaitMs.Add(Ms(e, batchStarted));
            _inWriterMs.Add(Ms(e, t.Committed));
        }
        _txMs.Add(Ms(t.Started, t.Committed));
        if (t.EventsInserted != 0) _lockHeldMs.Add(Ms(t.JobsLoaded, t.Committed));
        long[] marks = [t.Started, t.Opened, t.JobsLoaded, t.EventsInserted, t.JobsUpdated, t.CallbacksInserted, t.Committed];
        var last = marks[0];
        for (var i = 1; i < marks.Length; i++)
        {
            if (marks[i] == 0) continue;
            var ms = Ms(last, marks[i]);
            _phaseTotals[i - 1] += ms;
            _phaseMax[i - 1] = Math.Max(_phaseMax[i - 1], ms);
            last = marks[i];
        }
        _maxPoolQueue = Math.Max(_maxPoolQueue, ThreadPool.PendingWorkItemCount);
        _maxThreads = Math.Max(_maxThreads, ThreadPool.ThreadCount);
    }

    /// <summary>The interval's summary; starts the next interval.</summary>
    public string TakeSummary()
    {
        var seconds = Elapsed;
        var callbacks = _queueWaitMs.Count;
        var pause = GC.GetTotalPauseDuration();
        int[] counts = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{seconds:F1} s: {Batches} batches, {callbacks} callbacks ({callbacks / Math.Max(seconds, 0.001):F0}/s); ");
        s.Append("batch size ").Append(Percentiles.Format(_batchSizes, "F0")).Append("; ");
        s.Append("queue wait ms ").Append(Percentiles.Format(_queueWaitMs, "F1")).Append("; ");
        s.Append("queued-to-committed ms ").Append(Percentiles.Format(_inWriterMs, "F1")).Append("; ");
        s.Append("transaction ms ").Append(Percentiles.Format(_txMs, "F1")).Append("; ");
        s.Append("outbox lock wait+held ms ").Append(Percentiles.Format(_lockHeldMs, "F1")).Append("; ");
        s.Append("phase mean/max ms");
        for (var i = 0; i < PhaseNames.Length; i++)
        {
            s.Append(CultureInfo.InvariantCulture, $" {PhaseNames[i]} {_phaseTotals[i] / Math.Max(1, Batches):F2}/{_phaseMax[i]:F1}");
        }
        s.Append(CultureInfo.InvariantCulture,
            $"; GC pause {(pause - _gcPause).TotalMilliseconds:F0} ms ({(pause - _gcPause).TotalMilliseconds / 10 / Math.Max(seconds, 0.001):F1}% of time), collections gen0/1/2 {counts[0] - _gcCounts[0]}/{counts[1] - _gcCounts[1]}/{counts[2] - _gcCounts[2]}");
        s.Append(CultureInfo.InvariantCulture, $"; thread pool queue max {_maxPoolQueue}, threads max {_maxThreads}");

        _batchSizes.Clear(); _queueWaitMs.Clear(); _inWriterMs.Clear(); _txMs.Clear(); _lockHeldMs.Clear();
        Array.Clear(_phaseTotals); Array.Clear(_phaseMax);
        _intervalStart = Stopwatch.GetTimestamp();
        _gcPause = pause;
        counts.CopyTo(_gcCounts, 0);
        _maxPoolQueue = 0;
        _maxThreads = 0;
        return s.ToString();
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
