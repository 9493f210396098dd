using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Dapper;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// Cost as the work grows: wrk ingest (as <see cref="CallbackBenchmarks.IngestWithWrkAsync"/>) on a store holding only
/// <c>--jobs</c> fresh jobs, then on one that also holds 100,000 bulk jobs, 1,000,000 events and 100,000 callbacks
/// (<see cref="DashboardBenchmarks"/>' seed); then, at that size with the service idle, the reads whose cost could grow
/// with the store: the feed near its end and near its start, an SSE catch-up from sequence 0 and the admin failed-events
/// list, 30 timed requests each after 3 untimed; and the query plans of the feed and failed-events queries, for the record.
/// Targets: ingest at 1M events at least 0.9x the small store's rate; every read's p99 under 50 ms.
/// </summary>
public static class ScaleBenchmarks
{
    /// <summary>Ten events and one callback each: the 1M-event store.</summary>
    private const int BulkJobs = 100_000;

    private const int Warmup = 3, Timed = 30, CatchUpEvents = 1000;

    private sealed record Ingest(long Events, double Rate, double P99, long Errors, string LoadBefore);

    public static async Task<DashboardBenchmarks.Report> AtScaleAsync(BenchmarkOptions o)
    {
        var settings = Settings(o);
        var small = await SmallStoreAsync(o, settings);

        var (provider, connectionString, _, seeder) = await CallbackBenchmarks.CreateDatabaseAsync(o.Db);
        // The real jobs first, so the bulk seed's closing ANALYZE sees the whole store.
        var jobs = await CallbackBenchmarks.SeedAsync(seeder, o.Jobs);
        var now = DateTimeOffset.UtcNow;
        var seeding = Stopwatch.StartNew();
        await DashboardBenchmarks.SeedAsync(seeder.Database, BulkJobs, now);
        Console.Error.WriteLine(FormattableString.Invariant($"seeded {BulkJobs:N0} jobs, {BulkJobs * 10L:N0} events, {BulkJobs:N0} callbacks in {seeding.Elapsed.TotalSeconds:F1} s"));
        await using var service = await CallbackBenchmarks.StartServiceAsync(provider, WithExtra(o, connectionString), settings);
        var big = await IngestAsync(o, service, jobs, seeder.Database);

        // The service is idle from here on: only the reads below run.
        var newest = await ScalarAsync(seeder.Database, "SELECT MAX(sequence) FROM events");
        // Whole seconds, so the API's since and the plan's literal are the same instant.
        var since = DateTimeOffset.FromUnixTimeSeconds(now.AddDays(-15).ToUnixTimeSeconds());
        var sinceText = Uri.EscapeDataString(since.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        var lines = new List<string>();
        var worst = 0.0;
        void Add(string what, Latencies l, long bytes, bool counts = true)
        {
            if (counts) worst = Math.Max(worst, l.P99);
            lines.Add(FormattableString.Invariant($"  {what}: p50 {l.P50:F1} ms, p99 {l.P99:F1} ms, max {l.Max:F1} ms ({bytes:N0} bytes)"));
        }
        // A client's catch-up page is the largest the feed allows (as ServiceApi.FeedAsync reads it).
        foreach (var path in new[]
        {
            FormattableString.Invariant($"/v1/events?after={newest - 100}&limit={EventFeedEndpoints.MaxLimit}"),
            FormattableString.Invariant($"/v1/events?after=0&limit={EventFeedEndpoints.MaxLimit}"),
        })
        {
            var (l, bytes) = await GetAsync(service.Driver.Http, path);
            Add("GET " + path, l, bytes);
        }
        var (first, thousand, streamBytes) = await CatchUpAsync(service.BaseUrl);
        Add("GET /v1/events/stream (Last-Event-ID: 0), first event", first, streamBytes);
        // A transfer of 1,000 events, not a response time: reported, not held to the read target.
        Add(FormattableString.Invariant($"GET /v1/events/stream (Last-Event-ID: 0), first {CatchUpEvents:N0} events (not in the worst read)"), thousand, streamBytes, counts: false);
        foreach (var path in new[]
        {
            "/v1/admin/events?status=failed",
            "/v1/admin/events?status=failed&provider=kie&type=video.extension.completed&since=" + sinceText,
        })
        {
            var (l, bytes) = await GetAsync(service.Driver.Admin, path);
            Add("GET " + path, l, bytes);
        }

        // The SQL the service runs for those reads (FeedQueries.ReadEventsAsync for a client key of Auth:ApiKeys, whose
        // client is "default"; AdminStore.ListEventsAsync at its default page of 100), with the values it binds written in.
        var plans = await PlansAsync(seeder.Database,
        [
            ("feed", FormattableString.Invariant($"SELECT {EventRows.Columns} FROM events WHERE client = '{Api.Security.AuthOptions.DefaultClient}' AND sequence > 0 ORDER BY sequence LIMIT {EventFeedEndpoints.MaxLimit}")),
            ("admin failed events", $"SELECT {EventRows.Columns} FROM events WHERE status = 'failed' ORDER BY sequence LIMIT 100"),
            ("admin failed events, filtered", FormattableString.Invariant(
                $"SELECT {EventRows.Columns} FROM events WHERE status = 'failed' AND provider = 'kie' AND type = 'video.extension.completed' AND time >= {since.ToUnixTimeMilliseconds()} ORDER BY sequence LIMIT 100")),
        ]);
        static string At(Ingest i) => FormattableString.Invariant($"at {i.Events:N0} events {i.Rate:F0}/s p99 {i.P99:F1} ms")
            + (i.Errors > 0 ? FormattableString.Invariant($" ({i.Errors} errors)") : "");
        return new DashboardBenchmarks.Report(FormattableString.Invariant(
            $"scale db={o.Db}: ingest {At(small)}; {At(big)}; ratio {big.Rate / Math.Max(small.Rate, 1):F2}x (target >= 0.9x); worst read p99 {worst:F1} ms (target < 50 ms); ")
            + FormattableString.Invariant($"peak RSS {(service.PeakMemoryBytes() ?? 0) / 1048576} MB; load before [{small.LoadBefore}] and [{big.LoadBefore}]")
            + Environment.NewLine + string.Join(Environment.NewLine, lines)
            + Environment.NewLine + string.Join(Environment.NewLine, plans));
    }

    /// <summary>Phase A: the same ingest on a store of the real jobs alone; its service is gone before the big store starts.</summary>
    private static async Task<Ingest> SmallStoreAsync(BenchmarkOptions o, IReadOnlyDictionary<string, string> settings)
    {
        var (provider, connectionString, _, seeder) = await CallbackBenchmarks.CreateDatabaseAsync(o.Db);
        var jobs = await CallbackBenchmarks.SeedAsync(seeder, o.Jobs);
        await using var service = await CallbackBenchmarks.StartServiceAsync(provider, WithExtra(o, connectionString), settings);
        return await IngestAsync(o, service, jobs, seeder.Database);
    }

    private static Dictionary<string, string> Settings(BenchmarkOptions o)
    {
        var settings = new Dictionary<string, string>
        {
            // The bulk rows span the 30 days before the seed, the default Retention:MaxAge: a pass would prune the oldest mid-run.
            ["Retention:MaxAge"] = "365.00:00:00",
            // A catch-up stream's slot is freed only once the service sees the hang-up; the next may open before that.
            ["Events:MaxStreamsPerClient"] = "100",
        };
        foreach (var (key, value) in o.Settings) settings[key] = value;
        return settings;
    }

    private static string WithExtra(BenchmarkOptions o, string connectionString) =>
        connectionString + (o.ConnectionExtra is { } extra ? ";" + extra : "");

    /// <summary>wrk exactly as <see cref="CallbackBenchmarks.IngestWithWrkAsync"/> runs it; then how many events the store holds.</summary>
    private static async Task<Ingest> IngestAsync(BenchmarkOptions o, ServiceProcess service, List<CallbackBenchmarks.SeededJob> jobs, SqlDatabase db)
    {
        var script = Path.Combine(Path.GetTempPath(), $"vc-wrk-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, CallbackBenchmarks.WrkScriptFor(jobs));
        // The machine is shared: the load average says whether a figure was taken on a busy one.
        Console.Error.WriteLine($"wrk warm-up {o.WarmupSeconds} s; load average [{RunDiagnostics.LoadAverage()}]");
        await CallbackBenchmarks.RunWrkAsync(service.BaseUrl, script, o.Concurrency, o.WarmupSeconds);
        var load = RunDiagnostics.LoadAverage();
        Console.Error.WriteLine($"wrk measured {o.Seconds} s; load average [{load}]");
        var output = await CallbackBenchmarks.RunWrkAsync(service.BaseUrl, script, o.Concurrency, o.Seconds);
        File.Delete(script);
        var (requests, errors, latency) = CallbackBenchmarks.ParseWrk(output);
        return new Ingest(await ScalarAsync(db, "SELECT COUNT(*) FROM events"), (requests - errors) / o.Seconds, latency.P99, (long)errors, load);
    }

    /// <summary>One GET, 3 untimed then 30 timed, each timed to the last byte of its body.</summary>
    private static async Task<(Latencies Latency, long Bytes)> GetAsync(HttpClient http, string path)
    {
        var samples = new List<double>();
        long bytes = 0;
        for (var i = 0; i < Warmup + Timed; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            var body = await response.Content.ReadAsByteArrayAsync();
            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
            if (i >= Warmup) samples.Add(ms);
            bytes = body.Length;
        }
        return (Latencies.Of(samples), bytes);
    }

    /// <summary>
    /// SSE catch-up from sequence 0, a fresh stream each time: from the request to the first event, and to the
    /// 1,000th (both from the one stream); then the stream is dropped.
    /// </summary>
    private static async Task<(Latencies First, Latencies Thousand, long Bytes)> CatchUpAsync(Uri baseUrl)
    {
        const string StreamPath = "/v1/events/stream";
        // A body left unread would be drained in the background (up to 1 MB by default), the service still writing
        // this stream during the next sample; with nothing to drain, disposing it closes the connection at once.
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = baseUrl, Timeout = Wait.Default };
        http.DefaultRequestHeaders.Add("X-Api-Key", TestKeys.Client);
        List<double> first = [], thousand = [];
        long bytes = 0;
        for (var i = 0; i < Warmup + Timed; i++)
        {
            using var timeout = new CancellationTokenSource(Wait.Default);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(StreamPath, UriKind.Relative));
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.Add("Last-Event-ID", "0");
            var t0 = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{StreamPath} answered {(int)response.StatusCode}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token), Encoding.UTF8);
            double firstMs = 0;
            var (events, data, read) = (0, false, 0L);
            while (events < CatchUpEvents && await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                read += Encoding.UTF8.GetByteCount(line) + 1;
                // A blank line ends an event; one without data lines was a heartbeat.
                if (line.Length == 0)
                {
                    if (data && ++events == 1) firstMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    data = false;
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data = true;
                }
            }
            var allMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (events < CatchUpEvents) throw new InvalidOperationException($"{StreamPath} ended after {events} events");
            if (i >= Warmup)
            {
                first.Add(firstMs);
                thousand.Add(allMs);
            }
            bytes = read;
            // Leaving the iteration disposes reader and response mid-body: the connection closes and the service ends the stream.
        }
        return (Latencies.Of(first), Latencies.Of(thousand), bytes);
    }

    private static async Task<long> ScalarAsync(SqlDatabase db, string sql)
    {
        await using var connection = await db.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(sql, commandTimeout: 600));
    }

    /// <summary>EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL) of each query, the column list shown as "...".</summary>
    private static async Task<List<string>> PlansAsync(SqlDatabase db, List<(string Name, string Sql)> queries)
    {
        var postgres = db.Name == "Postgres";
        var lines = new List<string> { "query plans (the values the service binds written in as literals):" };
        await using var connection = await db.OpenAsync(CancellationToken.None);
        foreach (var (name, sql) in queries)
        {
            lines.Add($"  {name}: {sql.Replace(EventRows.Columns, "...", StringComparison.Ordinal)}");
            await using var command = connection.CreateCommand();
            command.CommandText = (postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql;
            await using var reader = await command.ExecuteReaderAsync();
            // SQLite answers (id, parent, notused, detail) rows, PostgreSQL one text column: the plan is the last column either way.
            while (await reader.ReadAsync()) lines.Add("    " + reader.GetString(reader.FieldCount - 1));
        }
        return lines;
    }
}
