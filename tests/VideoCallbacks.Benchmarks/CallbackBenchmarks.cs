using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.TestBroker;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// Callback ingest measured three ways, each callback verified (token + Apiframe secret) and
/// committed (raw callback + job update + event) before it counts:
/// over HTTP through the service; the same database work done directly, one transaction per
/// callback; and callback received to message accepted by the local AMQP broker, sent through the Service Bus SDK.
/// </summary>
public static class CallbackBenchmarks
{
    public static async Task<BenchmarkResult> IngestOverHttpAsync(BenchmarkOptions o)
    {
        var (provider, connectionString, _, seeder) = await CreateDatabaseAsync(o.Db);
        var jobs = await SeedAsync(seeder, o.Jobs);
        await using var service = await StartServiceAsync(provider, connectionString, o.Settings);
        using var http = Client(service.BaseUrl, o.Concurrency);
        var counter = 0L;
        async Task<bool> Send()
        {
            var (job, pct) = Next(jobs, Interlocked.Increment(ref counter));
            using var request = Callback(job, pct);
            using var response = await http.SendAsync(request);
            return response.StatusCode == HttpStatusCode.OK;
        }
        var (ok, errors, seconds, latency) = await RunAsync(o, Send, rate: null);
        return new BenchmarkResult("ingest-http", o, ok, errors, seconds, latency, service.PeakMemoryBytes());
    }

    public static async Task<BenchmarkResult> DirectDatabaseAsync(BenchmarkOptions o)
    {
        var (_, _, store, seeder) = await CreateDatabaseAsync(o.Db);
        var jobs = await SeedAsync(seeder, o.Jobs);
        var counter = 0L;
        async Task<bool> Work()
        {
            var (job, pct) = Next(jobs, Interlocked.Increment(ref counter));
            // The same verification the endpoint does, then one transaction for this one callback.
            var loaded = await store.Jobs.GetJobAsync(job.JobId, CancellationToken.None);
            if (!Secrets.MatchesHash(job.Token, loaded!.TokenHash) || !Secrets.MatchesHash(job.Secret, loaded.SecretHash)) return false;
            var body = Body(job, pct);
            var item = new IngestItem(ApiframeProvider.Name, job.JobId, job.TaskId, ProviderObservation.Processing(pct),
                new RawCallback("{}", body, DateTimeOffset.UtcNow));
            var result = await store.Ingest.IngestAsync([item], CancellationToken.None);
            return result[0].Outcome is CallbackOutcomes.Accepted or CallbackOutcomes.Duplicate;
        }
        var (ok, errors, seconds, latency) = await RunAsync(o, Work, rate: null);
        return new BenchmarkResult("direct-db (1 tx per callback)", o, ok, errors, seconds, latency, Environment.WorkingSet);
    }

    /// <summary>
    /// The service under wrk (a C load generator, so the client costs little of the two cores): every request is a
    /// distinct, genuine Apiframe progress callback that the service verifies and commits before answering.
    /// </summary>
    public static async Task<BenchmarkResult> IngestWithWrkAsync(BenchmarkOptions o)
    {
        var (provider, connectionString, _, seeder) = await CreateDatabaseAsync(o.Db);
        var jobs = await SeedAsync(seeder, o.Jobs);
        var settings = o.Diagnostics
            ? new Dictionary<string, string>(o.Settings) { ["Logging:LogLevel:VideoCallbacks.Api.Callbacks.IngestWriter"] = "Debug" }
            : o.Settings;
        var script = Path.Combine(Path.GetTempPath(), $"vc-wrk-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, WrkScriptFor(jobs));
        var bare = o.Bare ? await BareKestrel.MeasureAsync(script, o) : default((double Rate, Latencies Latency, string Raw)?);
        if (bare is { } b) Console.Error.WriteLine(FormattableString.Invariant($"bare Kestrel: {b.Rate:F0} req/s, p50 {b.Latency.P50:F2} ms, p99 {b.Latency.P99:F2} ms; load [{RunDiagnostics.LoadAverage()}]"));
        await using var service = await StartServiceAsync(provider, connectionString + (o.ConnectionExtra is { } extra ? ";" + extra : ""), settings);
        // Warm up (JIT, pools), then measure.
        await RunWrkAsync(service.BaseUrl, script, o.Concurrency, o.WarmupSeconds);
        var diagnostics = await RunDiagnostics.StartAsync(service.Pid, postgres: o.Db == "postgres");
        var output = await RunWrkAsync(service.BaseUrl, script, o.Concurrency, o.Seconds);
        var diag = diagnostics is null ? "" : Environment.NewLine + await diagnostics.StopAsync("wrk");
        File.Delete(script);
        var (requests, errors, latency) = ParseWrk(output);
        var ratio = bare is { } k ? FormattableString.Invariant($"; {(requests - errors) / o.Seconds / k.Rate:F3}x bare Kestrel ({k.Rate:F0}/s, p99 {k.Latency.P99:F2} ms) in the same run") : "";
        return new BenchmarkResult("ingest-http (wrk)", o, (long)(requests - errors), (long)errors, o.Seconds, latency, service.PeakMemoryBytes(),
            "wrk: " + string.Join(" | ", output.Split('\n').Where(l => l.Contains("Requests/sec", StringComparison.Ordinal) || l.Contains('%')).Select(l => l.Trim())) + ratio + diag);
    }

    /// <summary>A wrk Lua script that sends genuine Apiframe progress callbacks for <paramref name="jobs"/>.</summary>
    internal static string WrkScriptFor(IEnumerable<SeededJob> jobs) =>
        "local jobs = {\n" + string.Join(",\n", jobs.Select(j => $"{{\"{j.JobId}\",\"{j.Token}\",\"{j.Secret}\",\"{j.TaskId}\"}}")) + "\n}\n" + WrkScript;

    /// <summary>Latency percentiles and error count out of wrk's <c>--latency</c> report.</summary>
    internal static (double Requests, double Errors, Latencies Latency) ParseWrk(string output) =>
        (WrkNumber(output, @"(\d+) requests in"),
         WrkNumber(output, @"Non-2xx or 3xx responses: (\d+)") + WrkNumber(output, @"Socket errors: connect (\d+)"),
         new Latencies(WrkMs(output, "50%"), WrkMs(output, "99%"), WrkMs(output, "Latency", column: 3)));

    private const string WrkScript = """
        local threads = {}
        function setup(thread)
          thread:set("tid", #threads)
          table.insert(threads, thread)
        end
        function init(args)
          n = 0
          nthreads = 2
        end
        function request()
          -- Each thread walks its own slice of the jobs, so no two requests carry the same (job, percentage).
          local per = math.floor(#jobs / nthreads)
          local slot = n % per
          local j = jobs[tid * per + slot + 1]
          local pct = math.floor(n / per) % 99 + 1
          n = n + 1
          local body = '{"task_id":"' .. j[4] .. '","task_type":"imagine-video-extend","status":"processing","percentage":"' .. pct .. '"}'
          return wrk.format("POST", "/v1/callbacks/apiframe/" .. j[1] .. "/" .. j[2],
            { ["Content-Type"] = "application/json", ["x-webhook-secret"] = j[3] }, body)
        end
        """;

    private static double WrkNumber(string output, string pattern) =>
        System.Text.RegularExpressions.Regex.Match(output, pattern) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>A wrk latency figure ("10.26ms", "1.02s", "850.00us") in milliseconds.</summary>
    private static double WrkMs(string output, string label, int column = 1)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(label, StringComparison.Ordinal));
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is null || parts.Length <= column) return 0;
        var v = parts[column];
        var unit = v.EndsWith("us", StringComparison.Ordinal) ? 0.001 : v.EndsWith("ms", StringComparison.Ordinal) ? 1 : v.EndsWith('s') ? 1000 : 1;
        return double.Parse(v.TrimEnd('u', 'm', 's'), CultureInfo.InvariantCulture) * unit;
    }

    internal static async Task<string> RunWrkAsync(Uri baseUrl, string script, int connections, int seconds)
    {
        var psi = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency", "-s", script, baseUrl.ToString() }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("wrk is not installed (apt-get install wrk)");
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return output + await p.StandardError.ReadToEndAsync();
    }

    /// <summary>The writer's transaction alone: batches of <c>Concurrency</c> callbacks, one transaction each (no HTTP).</summary>
    public static async Task<BenchmarkResult> GroupCommitOnlyAsync(BenchmarkOptions o)
    {
        var (_, _, store, seeder) = await CreateDatabaseAsync(o.Db);
        var jobs = await SeedAsync(seeder, o.Jobs);
        var counter = 0L;
        var sw = Stopwatch.StartNew();
        long ok = 0;
        var samples = new List<double>();
        while (sw.Elapsed < TimeSpan.FromSeconds(o.Seconds))
        {
            var items = Enumerable.Range(0, o.Concurrency).Select(_ =>
            {
                var (job, pct) = Next(jobs, ++counter);
                return new IngestItem(ApiframeProvider.Name, job.JobId, job.TaskId, ProviderObservation.Processing(pct),
                    new RawCallback("{}", Body(job, pct), DateTimeOffset.UtcNow));
            }).ToList();
            var t0 = Stopwatch.GetTimestamp();
            var results = await store.Ingest.IngestAsync(items, CancellationToken.None);
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            ok += results.Count;
        }
        return new BenchmarkResult("group-commit-only (batch = concurrency)", o, ok, 0, sw.Elapsed.TotalSeconds, Latencies.Of(samples), Environment.WorkingSet,
            "latency = one batch transaction");
    }

    /// <summary>
    /// Callback received -> message stored by the local AMQP broker, open loop at <c>--rate</c>. Only callbacks sent
    /// after the warm-up count (as in every other mode); the split into "answered" (received -> committed -> 200) and
    /// "after the answer" (the relay's part) says which side holds the tail. <c>--diag</c> adds the service's own
    /// "Ingest stats" and "Relay stats" lines (<see cref="VideoCallbacks.Api.Bus.RelayStats"/>).
    /// </summary>
    public static async Task<BenchmarkResult> CallbackToBusAsync(BenchmarkOptions o)
    {
        var sent = new ConcurrentDictionary<string, (long Sent, long Answered)>();
        var accepted = new ConcurrentDictionary<string, long>();
        await using var broker = await LocalServiceBus.StartAsync(b =>
            b.OnStored = m => accepted.TryAdd(m.MessageId ?? "", Stopwatch.GetTimestamp()));
        var (provider, connectionString, _, seeder) = await CreateDatabaseAsync(o.Db, seedPublished: true);
        var jobs = await SeedAsync(seeder, o.Jobs);
        var settings = new Dictionary<string, string>
        {
            ["Bus:Transport"] = "ServiceBus",
            ["Bus:ServiceBus:ConnectionString"] = broker.ConnectionString,
            ["Relay:PollInterval"] = "00:00:00.050",
        };
        if (o.Diagnostics)
        {
            settings["Logging:LogLevel:VideoCallbacks.Api.Callbacks.IngestWriter"] = "Debug";
            settings["Logging:LogLevel:VideoCallbacks.Api.Bus.OutboxRelay"] = "Debug";
        }
        await using var service = await StartServiceAsync(provider, connectionString, settings.Concat(o.Settings).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value));
        using var http = Client(service.BaseUrl, o.Concurrency);
        var counter = 0L;
        // The warm-up gives every job one callback: the seeder binds jobs behind the service's back, so each one's
        // first callback misses the credential cache, which a job the service bound itself never does (RememberAsync).
        o = o with { WarmupSeconds = Math.Max(o.WarmupSeconds, (int)Math.Ceiling((double)o.Jobs / o.Rate) + 1) };
        Console.Error.WriteLine($"warm-up {o.WarmupSeconds} s (one callback per job at least)");
        var measureFrom = Stopwatch.GetTimestamp() + (long)(o.WarmupSeconds * Stopwatch.Frequency);
        async Task<bool> Send()
        {
            var (job, pct) = Next(jobs, Interlocked.Increment(ref counter));
            using var request = Callback(job, pct);
            var t0 = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request);
            if (t0 >= measureFrom) sent[$"{job.JobId}:progress:{pct}"] = (t0, Stopwatch.GetTimestamp());
            return response.StatusCode == HttpStatusCode.OK;
        }
        var diagnostics = await RunDiagnostics.StartAsync(service.Pid, postgres: o.Db == "postgres");
        var (ok, errors, seconds, _) = await RunAsync(o, Send, o.Rate);
        var cpu = await diagnostics.StopAsync("load generator + broker");
        // Give the relay time to drain, then pair each callback with its message.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && sent.Keys.Any(k => !accepted.ContainsKey(k))) await Task.Delay(200);
        var paired = sent.Where(kv => accepted.ContainsKey(kv.Key)).Select(kv => (kv.Value.Sent, kv.Value.Answered, Accepted: accepted[kv.Key])).ToList();
        var samples = paired.Select(p => Stopwatch.GetElapsedTime(p.Sent, p.Accepted).TotalMilliseconds).ToList();
        var answered = Latencies.Of(paired.Select(p => Stopwatch.GetElapsedTime(p.Sent, p.Answered).TotalMilliseconds).ToList());
        var relayed = Latencies.Of(paired.Select(p => Stopwatch.GetElapsedTime(p.Answered, p.Accepted).TotalMilliseconds).ToList());
        var missing = sent.Count - samples.Count;
        var outcomes = string.Join(", ", broker.Transfers.GroupBy(t => t.Outcome).Select(g => $"{g.Key}x{g.Count()}"));
        Console.Error.WriteLine($"broker saw {broker.Transfers.Count} transfers ({outcomes}), kept {broker.Messages.Count} messages");
        return new BenchmarkResult("callback-to-bus", o, ok, errors, seconds, Latencies.Of(samples), service.PeakMemoryBytes(),
            FormattableString.Invariant($"end-to-end latency over {samples.Count} messages at {o.Rate}/s target ({missing} not delivered in time); ") +
            FormattableString.Invariant($"received -> answered p50={answered.P50:F1} p99={answered.P99:F1} ms; answered -> broker p50={relayed.P50:F1} p99={relayed.P99:F1} max={relayed.Max:F1} ms") +
            Environment.NewLine + cpu);
    }

    // ------------------------------------------------------------------ plumbing

    /// <summary>The service as in production (Production environment, no sandbox), its warnings and errors echoed.</summary>
    internal static Task<ServiceProcess> StartServiceAsync(string provider, string connectionString, IReadOnlyDictionary<string, string> settings) =>
        ServiceProcess.StartAsync(provider, connectionString, new Dictionary<string, string>
        {
            ["Sandbox:Enabled"] = "false",
            ["RateLimits:CallbacksPerSecond"] = "10000000",
            // Nothing to reconcile during a run.
            ["Reconcile:After"] = "01:00:00",
        }.Concat(settings).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value),
            environment: "Production", echo: Echo);

    private static void Echo(string line)
    {
        if (line.Contains("\"Error\"", StringComparison.Ordinal) || line.Contains("\"Warning\"", StringComparison.Ordinal)
            || line.Contains("Relay stats", StringComparison.Ordinal)
            || line.Contains("Ingest stats", StringComparison.Ordinal) || !line.StartsWith('{'))
        {
            Console.Error.WriteLine(line);
        }
    }

    internal sealed record SeededJob(string JobId, string Token, string Secret, string TaskId);

    private static (SeededJob Job, int Percentage) Next(IReadOnlyList<SeededJob> jobs, long n) =>
        // Each job's progress rises 1..99 across rounds, so every callback is new news and writes an event.
        (jobs[(int)(n % jobs.Count)], (int)(n / jobs.Count % 99) + 1);

    private static string Body(SeededJob job, int pct) =>
        $$"""{"task_id":"{{job.TaskId}}","task_type":"imagine-video-extend","status":"processing","percentage":"{{pct}}"}""";

    private static HttpRequestMessage Callback(SeededJob job, int pct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/callbacks/apiframe/{job.JobId}/{job.Token}")
        {
            Content = new StringContent(Body(job, pct), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-webhook-secret", job.Secret);
        return request;
    }

    internal static HttpClient Client(Uri baseUrl, int concurrency) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = concurrency,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A fresh database; <c>Seeder</c> writes the seed rows (not measured), <c>Store</c> does measured work.</summary>
    internal static async Task<(string Provider, string ConnectionString, Stores Store, Stores Seeder)> CreateDatabaseAsync(string db, bool seedPublished = false)
    {
        // Seeded jobs' submitted events count as already published, so a bus run measures steady state, not a backlog.
        var settings = new StoreSettings(TimeProvider.System, PublishedOnCommit: seedPublished);
        if (db == "postgres")
        {
            var cs = await PostgresServer.CreateDatabaseAsync();
            var postgres = new PostgresDatabase(PostgresDatabase.DataSource(cs + ";Maximum Pool Size=100"), settings);
            await postgres.MigrateAsync(CancellationToken.None);
            // Seeding is setup, not the measurement: on a durable server it would wait for an fsync per row (minutes for 8,000 jobs).
            var seeding = new PostgresDatabase(new Npgsql.NpgsqlDataSourceBuilder(cs + ";Options=-c synchronous_commit=off").Build(), settings);
            return ("Postgres", cs, new Stores(postgres), new Stores(seeding));
        }
        var dir = Path.Combine(Path.GetTempPath(), "vc-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var connectionString = $"Data Source={Path.Combine(dir, "bench.db")}";
        var sqlite = new SqliteDatabase(connectionString, settings);
        await sqlite.MigrateAsync(CancellationToken.None);
        return ("Sqlite", connectionString, new Stores(sqlite), new Stores(sqlite));
    }

    internal static async Task<List<SeededJob>> SeedAsync(Stores store, int count)
    {
        var now = DateTimeOffset.UtcNow;
        var jobs = Enumerable.Range(0, count)
            .Select(i => new SeededJob($"job_bench_{i:D6}_{Guid.NewGuid():N}"[..40], Secrets.NewToken(), Secrets.NewToken(), $"task-{i}-{Guid.NewGuid():N}"))
            .ToList();
        // A few at a time: setup only, and SQLite queues its writers anyway.
        await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (seeded, ct) =>
        {
            var job = new Job
            {
                JobId = seeded.JobId, Provider = ApiframeProvider.Name, Status = JobStatuses.Submitted, Submission = SubmissionStates.Pending,
                RequestJson = "{}", TokenHash = Secrets.Hash(seeded.Token), SecretHash = Secrets.Hash(seeded.Secret),
                SourceTaskId = "bench", Index = 0, CreatedAt = now, UpdatedAt = now,
            };
            await store.Submissions.CreateJobAsync(job, null, ct);
            await store.Submissions.AcceptSubmissionAsync(job.JobId, seeded.TaskId, null, ct);
        });
        return jobs;
    }

    /// <summary>Closed loop with <c>Concurrency</c> workers (or paced to <paramref name="rate"/> per second), warm-up excluded.</summary>
    private static async Task<(long Ok, long Errors, double Seconds, Latencies Latency)> RunAsync(BenchmarkOptions o, Func<Task<bool>> operation, int? rate)
    {
        var samples = new ConcurrentBag<double>();
        long ok = 0, errors = 0, ticket = 0;
        var measuring = false;
        var start = Stopwatch.GetTimestamp();
        var warmupEnd = start + (long)(o.WarmupSeconds * Stopwatch.Frequency);
        var end = warmupEnd + (long)(o.Seconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                if (now >= end) return;
                if (rate is { } r)
                {
                    // Open loop: the n-th operation is due at start + n / rate.
                    var due = start + (long)(Interlocked.Increment(ref ticket) * (double)Stopwatch.Frequency / r);
                    if (due >= end) return;
                    var wait = Stopwatch.GetElapsedTime(now, due);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait);
                }
                var t0 = Stopwatch.GetTimestamp();
                bool success;
                try { success = await operation(); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { success = false; }
                var inWindow = t0 >= warmupEnd;
                if (!inWindow) continue;
                if (!measuring) measuring = true;
                samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (success) Interlocked.Increment(ref ok); else Interlocked.Increment(ref errors);
            }
        })).ToList();
        await Task.WhenAll(workers);
        return (ok, errors, o.Seconds, Latencies.Of([.. samples]));
    }
}
