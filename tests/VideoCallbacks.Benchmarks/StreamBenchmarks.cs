using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// What idle Server-Sent-Events streams cost the service: its CPU and RSS at rest, then again with <c>--streams</c>
/// streams of <c>GET /v1/events/stream</c> held open, each on its own connection, while no events are produced. The
/// difference is what the streams alone cost (heartbeats, idle wake-ups, per-connection buffers).
/// Targets for 1,000 streams: &lt; 5% of a core and &lt; 50 MB above rest.
/// </summary>
public static class StreamBenchmarks
{
    /// <summary>
    /// Streams are started at this pace rather than all at once, so the connects never overflow Kestrel's listen
    /// backlog (512) and wait out a SYN retransmit. Not a cap on streams in flight: a stream may send its headers
    /// only with its first write (the first heartbeat), and the opens must not wait on each other for that.
    /// </summary>
    private const int OpensPerSecond = 500;

    public static async Task<StreamBenchmarkResult> IdleStreamsAsync(BenchmarkOptions o)
    {
        var (provider, connectionString, _, _) = await CallbackBenchmarks.CreateDatabaseAsync(o.Db);
        var settings = new Dictionary<string, string>
        {
            ["Events:MaxStreamsPerClient"] = (o.Streams + 10).ToString(CultureInfo.InvariantCulture),
            ["Events:Heartbeat"] = "00:00:15",
            // Every stream is one request on the client key's token bucket, and they all open within seconds.
            ["RateLimits:PerKeyPerSecond"] = "100000",
            ["RateLimits:PerKeyBurst"] = "100000",
        };
        foreach (var (key, value) in o.Settings) settings[key] = value;
        await using var service = await CallbackBenchmarks.StartServiceAsync(provider, connectionString, settings);
        // Start-up leaves work behind (tiered JIT, first GCs, the background services' first rounds); it is not the streams'.
        var settle = TimeSpan.FromSeconds(Math.Max(o.WarmupSeconds, 10));
        var loadBefore = RunDiagnostics.LoadAverage();
        await Task.Delay(settle);
        var rest = await MeasureAsync(service, o.Seconds);

        using var http = StreamClient(service.BaseUrl);
        using var stop = new CancellationTokenSource();
        var counters = new Counters();
        var opening = Stopwatch.StartNew();
        var attempts = await Task.WhenAll(Enumerable.Range(0, o.Streams)
            .Select(i => OpenAsync(http, TimeSpan.FromSeconds((double)i / OpensPerSecond), counters, stop.Token)));
        opening.Stop();
        var streams = attempts.OfType<OpenStream>().ToList();
        // Opening costs (accepts, JIT of the stream path) are not the idle cost either.
        await Task.Delay(settle);
        var (heartbeats, events, bytes) = counters.Snapshot();
        var open = await MeasureAsync(service, o.Seconds);
        var (heartbeatsAfter, eventsAfter, bytesAfter) = counters.Snapshot();
        var stillOpen = Volatile.Read(ref counters.Open);

        await stop.CancelAsync();
        await Task.WhenAll(streams.Select(s => s.Reading));
        foreach (var s in streams) s.Response.Dispose();
        return new StreamBenchmarkResult(o, counters.Answers(), streams.Count, stillOpen, opening.Elapsed.TotalSeconds, counters.Headers(),
            rest, open, heartbeatsAfter - heartbeats, eventsAfter - events, bytesAfter - bytes, $"[{loadBefore}] -> [{RunDiagnostics.LoadAverage()}]");
    }

    /// <summary>The service's CPU (share of one core, from /proc/PID/stat) over <paramref name="seconds"/>, and its peak RSS sampled each second.</summary>
    private static async Task<StreamWindow> MeasureAsync(ServiceProcess service, int seconds)
    {
        var ticks = RunDiagnostics.ProcessTicks(service.Pid).Own;
        var started = Stopwatch.GetTimestamp();
        long rss = 0;
        for (var i = 0; i < seconds; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            rss = Math.Max(rss, service.ResidentMemoryBytes() ?? 0);
        }
        var used = RunDiagnostics.ProcessTicks(service.Pid).Own - ticks;
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // A dead process reads as zero ticks, which would look like a very cheap service.
        if (service.HasExited) throw new InvalidOperationException($"the service exited with {service.ExitCode}:{Environment.NewLine}{service.Output}");
        return new StreamWindow(elapsed, used / RunDiagnostics.TicksPerSecond / elapsed * 100, rss);
    }

    /// <summary>Opens one stream; once its headers are in, reads its body in the background. Null when it was refused or failed.</summary>
    private static async Task<OpenStream?> OpenAsync(HttpClient http, TimeSpan startAfter, Counters counters, CancellationToken stop)
    {
        await Task.Delay(startAfter, stop);
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage? response = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/events/stream", UriKind.Relative));
            request.Headers.Accept.ParseAdd("text/event-stream");
            // Bounds the wait for headers only: with ResponseHeadersRead the token is let go once they are in.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(Wait.Default);
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            counters.HeadersMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            var isStream = response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == "text/event-stream";
            counters.Answer(isStream ? "200 text/event-stream" : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
            if (!isStream)
            {
                response.Dispose();
                return null;
            }
            var body = await response.Content.ReadAsStreamAsync(stop);
            Interlocked.Increment(ref counters.Open);
            return new OpenStream(response, ReadAsync(body, counters, stop));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            response?.Dispose();
            counters.Answer(e.GetType().Name);
            return null;
        }
    }

    /// <summary>Reads a stream until the run ends, counting bytes, heartbeats and events; a stream the service ends is no longer open.</summary>
    private static async Task ReadAsync(Stream body, Counters counters, CancellationToken stop)
    {
        var buffer = new byte[512];
        var lines = new SseLines(counters);
        try
        {
            int n;
            while ((n = await body.ReadAsync(buffer, stop)) > 0)
            {
                Interlocked.Add(ref counters.Bytes, n);
                lines.Scan(buffer.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Our own stop, or the connection broke: either way the stream is over.
        }
        finally
        {
            Interlocked.Decrement(ref counters.Open);
            await body.DisposeAsync();
        }
    }

    private static HttpClient StreamClient(Uri baseUrl)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            // An SSE response holds its HTTP/1.1 connection while it is open, so each stream needs a connection of its own.
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        {
            BaseAddress = baseUrl,
            // A stream never ends by itself; the wait for its headers has its own bound.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.Add("X-Api-Key", TestKeys.Client);
        return client;
    }

    private sealed record OpenStream(HttpResponseMessage Response, Task Reading);

    /// <summary>Shared by every stream's tasks; the fields are updated with <see cref="Interlocked"/>.</summary>
    private sealed class Counters
    {
        public long Bytes, Heartbeats, Events;
        public int Open;
        public readonly ConcurrentBag<double> HeadersMs = [];
        private readonly ConcurrentDictionary<string, int> _answers = new(StringComparer.Ordinal);

        public void Answer(string what) => _answers.AddOrUpdate(what, 1, (_, n) => n + 1);

        public string Answers() => string.Join(", ", _answers.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => FormattableString.Invariant($"{kv.Key} x{kv.Value}")));

        public Latencies Headers() => Latencies.Of([.. HeadersMs]);

        public (long Heartbeats, long Events, long Bytes) Snapshot() =>
            (Interlocked.Read(ref Heartbeats), Interlocked.Read(ref Events), Interlocked.Read(ref Bytes));
    }

    /// <summary>
    /// Splits one stream's bytes into SSE lines. A heartbeat is a comment line (<c>:</c> ...) or an event typed
    /// <c>heartbeat</c>, whichever the service sends; any other event with data is a real event (there should be none).
    /// </summary>
    private sealed class SseLines(Counters counters)
    {
        private readonly byte[] _prefix = new byte[32];
        private int _length;
        private bool _data, _heartbeatType;

        public void Scan(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                if (b == (byte)'\n') EndLine(_prefix.AsSpan(0, Math.Min(_length, _prefix.Length)));
                else if (b != (byte)'\r' && _length++ < _prefix.Length) _prefix[_length - 1] = b;
            }
        }

        private void EndLine(ReadOnlySpan<byte> line)
        {
            _length = 0;
            if (line.IsEmpty)
            {
                // A blank line dispatches the event gathered so far.
                if (_heartbeatType) Interlocked.Increment(ref counters.Heartbeats);
                else if (_data) Interlocked.Increment(ref counters.Events);
                _data = _heartbeatType = false;
            }
            else if (line[0] == (byte)':') Interlocked.Increment(ref counters.Heartbeats);
            else if (line.StartsWith("event:"u8)) _heartbeatType = line.IndexOf("heartbeat"u8) >= 0;
            else if (line.StartsWith("data:"u8)) _data = true;
        }
    }
}

/// <summary>One measured window: wall seconds, the service's CPU as a percentage of one core, its peak RSS.</summary>
public sealed record StreamWindow(double Seconds, double CpuPercent, long RssBytes);

public sealed record StreamBenchmarkResult(BenchmarkOptions Options, string Answers, int Opened, int StillOpen, double OpeningSeconds, Latencies Headers,
    StreamWindow Rest, StreamWindow Open, long Heartbeats, long Events, long Bytes, string Load)
{
    public const double CpuTargetPercent = 5, MemoryTargetMb = 50;

    public override string ToString()
    {
        static double Mb(long bytes) => bytes / 1024.0 / 1024.0;
        var cpu = Open.CpuPercent - Rest.CpuPercent;
        var memory = Mb(Open.RssBytes) - Mb(Rest.RssBytes);
        var verdict = cpu < CpuTargetPercent && memory < MemoryTargetMb ? "met" : "MISSED";
        // One heartbeat per stream every 15 s (Events:Heartbeat), if the service sends them.
        var expected = StillOpen * Open.Seconds / 15;
        return FormattableString.Invariant(
            $"idle-streams db={Options.Db} streams={Options.Streams}: {cpu:F2}% of a core and {memory:F0} MB above rest (target < {CpuTargetPercent}% of a core and < {MemoryTargetMb} MB above rest: {verdict}); ") +
            FormattableString.Invariant(
            $"rest {Rest.CpuPercent:F2}% / {Mb(Rest.RssBytes):F0} MB, streams open {Open.CpuPercent:F2}% / {Mb(Open.RssBytes):F0} MB peak RSS over {Open.Seconds:F1} s each; ") +
            FormattableString.Invariant(
            $"{Opened}/{Options.Streams} streams got 200 and headers ({Answers}) in {OpeningSeconds:F1} s, headers p50={Headers.P50:F0} ms p99={Headers.P99:F0} ms max={Headers.Max:F0} ms, {StillOpen} still open after the window; ") +
            FormattableString.Invariant(
            $"in the window {Heartbeats} heartbeats (~{expected:F0} expected), {Events} events, {Bytes / 1024.0:F1} KB read; load average {Load}");
    }
}
