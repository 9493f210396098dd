using System.Globalization;

namespace VideoCallbacks.Benchmarks;

/// <param name="Settings">Extra service settings from repeated <c>--set Key=Value</c> (e.g. <c>--set Bus:ServiceBus:MaxRetries=0</c>).</param>
public sealed record BenchmarkOptions(string Mode, string Db, int Concurrency, int Seconds, int Rate, int Jobs, int WarmupSeconds, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>PostgreSQL with fsync and synchronous commit on (the default); <c>--fsync off</c> for the tests' fast, non-durable server.</summary>
    public bool Durable { get; init; } = true;

    /// <summary><c>--pgbench</c>: run the raw SQL baseline (<see cref="PgBench"/>) on the same server first, and give ratios to it.</summary>
    public bool Baseline { get; init; }

    /// <summary><c>--cs-extra "Max Auto Prepare=20"</c>: appended to the service's connection string (an experiment's knob).</summary>
    public string? ConnectionExtra { get; init; }

    /// <summary><c>--bare</c>: the wrk mode measures a bare Kestrel endpoint first (<see cref="BareKestrel"/>) and gives the ratio to it.</summary>
    public bool Bare { get; init; }

    /// <summary><c>--diag</c>: the service logs its "Ingest stats" line (batch sizes, queue wait, phases, GC, thread pool) every 5 s.</summary>
    public bool Diagnostics { get; init; }

    /// <summary><c>--streams 1000</c>: how many idle SSE streams the <c>streams</c> mode holds open at once.</summary>
    public int Streams { get; init; } = 1000;

    /// <summary><c>--archives 20</c>: how many completions the <c>archive</c> mode archives at once.</summary>
    public int Archives { get; init; } = 20;

    /// <summary><c>--archive-mb 200</c>: the size of each video the <c>archive</c> mode's CDN serves.</summary>
    public int ArchiveMegabytes { get; init; } = 200;

    /// <summary><c>--cdn-mbps 10</c>: the CDN's pace per stream in MB/s (0: as fast as loopback goes).</summary>
    public int CdnMegabytesPerSecond { get; init; }

    /// <summary>
    /// wrk (and its bare-Kestrel baseline) warms up for 30 s: tiered compilation with dynamic PGO was still taking
    /// ~20% of both cores 14-22 s after start (perf: libclrjit), and a 3 s warm-up measured that instead of the
    /// service (8,700/s then, 15,600/s once compiled; docs/benchmarks.md, issue 23). Other modes keep 3 s.
    /// </summary>
    private static int DefaultWarmupSeconds(string mode) => mode == "wrk" ? 30 : 3;

    public static BenchmarkOptions Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        static Dictionary<string, string> Settings(string[] args) => args
            .Select((a, i) => a == "--set" && i + 1 < args.Length ? args[i + 1] : null)
            .OfType<string>()
            .Select(kv => kv.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var mode = args.Length > 0 ? args[0] : "ingest";
        return new BenchmarkOptions(mode, Get("db", "sqlite"), Int("concurrency", 64), Int("seconds", 20),
            Int("rate", 1000), Int("jobs", 5000), Int("warmup", DefaultWarmupSeconds(mode)), Settings(args))
        {
            Durable = Get("fsync", "on") != "off",
            Baseline = args.Contains("--pgbench"),
            Diagnostics = args.Contains("--diag"),
            Bare = args.Contains("--bare"),
            Streams = Int("streams", 1000),
            Archives = Int("archives", 20),
            ArchiveMegabytes = Int("archive-mb", 200),
            CdnMegabytesPerSecond = Int("cdn-mbps", 0),
            ConnectionExtra = Get("cs-extra", "") is { Length: > 0 } extra ? extra : null,
        };
    }
}

public sealed record BenchmarkResult(string Name, BenchmarkOptions Options, long Ok, long Errors, double Seconds, Latencies Latency, long? PeakServerMemoryBytes, string? Note = null)
{
    public override string ToString()
    {
        var memory = PeakServerMemoryBytes is { } m ? FormattableString.Invariant($"; peak RSS {m / 1024.0 / 1024.0:F0} MB") : "";
        return FormattableString.Invariant(
            $"{Name} db={Options.Db} concurrency={Options.Concurrency}: {Ok / Seconds:F0} ok/s ({Ok} ok, {Errors} errors in {Seconds:F1} s); latency p50={Latency.P50:F2} ms p99={Latency.P99:F2} ms max={Latency.Max:F2} ms{memory}") +
            (Note is null ? "" : "; " + Note);
    }
}

public sealed record Latencies(double P50, double P99, double Max)
{
    public static Latencies Of(List<double> samples)
    {
        if (samples.Count == 0) return new Latencies(0, 0, 0);
        samples.Sort();
        double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return new Latencies(At(0.50), At(0.99), samples[^1]);
    }
}
