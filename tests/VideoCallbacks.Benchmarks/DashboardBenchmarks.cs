using System.Diagnostics;
using System.Globalization;
using System.Net;
using Dapper;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// The dashboard at size: <c>--jobs</c> jobs (default 100,000), ten events each (1,000,000; one in a thousand failed),
/// a callback per job (one in a hundred failed) and 1,000 audit entries, seeded in bulk SQL spread over 30 days; then
/// every page, signed in over HTTP, timed 30 times after a warm-up.
/// </summary>
public static class DashboardBenchmarks
{
    private static readonly string[] Pages =
    [
        "/admin",
        "/admin/events",
        "/admin/events?provider=kie&type=video.extension.completed&since={since}",
        "/admin/callbacks?outcome=failed",
        "/admin/callbacks?outcome=anomalies",
        "/admin/callbacks?outcome=accepted&provider=apiframe",
        "/admin/jobs?q=corr-{mid}",
        "/admin/jobs?q=task-{mid}",
        "/admin/jobs?q=job_seed_{mid}",
        "/admin/audit",
        "/admin/audit?action=events.purge",
    ];

    /// <summary>A report that is not a throughput figure.</summary>
    public sealed record Report(string Text)
    {
        public override string ToString() => Text;
    }

    public static async Task<Report> PagesAtSizeAsync(BenchmarkOptions o)
    {
        var jobs = o.Jobs;
        var (provider, connectionString, _, seeder) = await CallbackBenchmarks.CreateDatabaseAsync(o.Db);
        var seeding = Stopwatch.StartNew();
        await SeedAsync(seeder.Database, jobs, DateTimeOffset.UtcNow);
        Console.Error.WriteLine(FormattableString.Invariant($"seeded {jobs:N0} jobs, {jobs * 10L:N0} events, {jobs:N0} callbacks in {seeding.Elapsed.TotalSeconds:F1} s"));
        await using var service = await CallbackBenchmarks.StartServiceAsync(provider, connectionString, o.Settings);
        using var http = DashboardSignIn.Client(service.BaseUrl);
        var cookie = await DashboardSignIn.SessionAsync(http);
        var mid = (jobs / 2).ToString("D8", CultureInfo.InvariantCulture);
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-15).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        var lines = new List<string>();
        var worst = 0.0;
        foreach (var template in Pages)
        {
            var path = template.Replace("{mid}", mid, StringComparison.Ordinal).Replace("{since}", since, StringComparison.Ordinal);
            var samples = new List<double>();
            long bytes = 0;
            for (var i = 0; i < 33; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Add("Cookie", cookie);
                var t0 = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
                if (i >= 3) samples.Add(ms);
                bytes = body.Length;
            }
            var l = Latencies.Of(samples);
            worst = Math.Max(worst, l.P99);
            lines.Add(FormattableString.Invariant($"  {path}: p50 {l.P50:F1} ms, p99 {l.P99:F1} ms, max {l.Max:F1} ms ({bytes:N0} bytes)"));
        }
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[..3];
        return new Report(FormattableString.Invariant(
            $"dashboard-pages db={o.Db}: {jobs:N0} jobs, {jobs * 10L:N0} events, 30 requests per page; worst page p99 {worst:F1} ms; peak RSS {(service.PeakMemoryBytes() ?? 0) / 1048576} MB; load after {string.Join(' ', load)}")
            + Environment.NewLine + string.Join(Environment.NewLine, lines));
    }

    /// <summary>Bulk rows in a few statements (generate_series on PostgreSQL, a recursive CTE on SQLite): setup, not the measurement.</summary>
    internal static async Task SeedAsync(Api.Storage.SqlDatabase db, int jobs, DateTimeOffset now)
    {
        var postgres = db.Name == "Postgres";
        var t0 = now.AddDays(-30).ToUnixTimeMilliseconds();
        // Events spread evenly over the 30 days, ten per job in job order.
        var step = (now.ToUnixTimeMilliseconds() - t0) / (jobs * 10L);
        string Series(long count) => postgres
            ? $"(SELECT g::bigint AS i FROM generate_series(0, {count - 1}) g) n"
            : $"(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {count - 1}) SELECT i FROM s) n";
        string Pad(string e) => postgres ? $"lpad(({e})::text, 8, '0')" : $"printf('%08d', {e})";
        string Cat(params string[] parts) => string.Join(" || ", parts);
        const string Provider = "CASE {0} % 3 WHEN 0 THEN 'kie' WHEN 1 THEN 'apiframe' ELSE 'nanogpt' END";
        var statements = new[]
        {
            $"""
            INSERT INTO jobs (job_id, provider, provider_task_id, status, submission, progress, correlation_id, request_json, token_hash, created_at, updated_at)
            SELECT {Cat("'job_seed_'", Pad("i"))}, {string.Format(CultureInfo.InvariantCulture, Provider, "i")}, {Cat("'task-'", Pad("i"))}, 'completed', 'accepted', 100,
                   {Cat("'corr-'", Pad("i"))}, '{"{}"}', 'seed', {t0} + i * {step * 10}, {t0} + i * {step * 10} + {step * 9}
            FROM {Series(jobs)}
            """,
            $"""
            INSERT INTO events (event_id, job_id, provider, type, job_status, correlation_id, time, data, status, attempts, next_attempt_at, last_error, published_at)
            SELECT {Cat("'job_seed_'", Pad("i / 10"), "':'", postgres ? "(i % 10)::text" : "(i % 10)")}, {Cat("'job_seed_'", Pad("i / 10"))},
                   {string.Format(CultureInfo.InvariantCulture, Provider, "(i / 10)")},
                   CASE i % 10 WHEN 0 THEN 'video.extension.submitted' WHEN 9 THEN 'video.extension.completed' ELSE 'video.extension.progress' END,
                   CASE i % 10 WHEN 9 THEN 'completed' ELSE 'processing' END, {Cat("'corr-'", Pad("i / 10"))}, {t0} + i * {step},
                   '{"{}"}', CASE WHEN i % 1000 = 999 THEN 'failed' ELSE 'published' END, CASE WHEN i % 1000 = 999 THEN 10 ELSE 1 END,
                   {t0} + i * {step}, CASE WHEN i % 1000 = 999 THEN 'Transient: the broker answered ServerBusy' END,
                   CASE WHEN i % 1000 = 999 THEN NULL ELSE {t0} + i * {step} + 20 END
            FROM {Series(jobs * 10L)}
            """,
            $"""
            INSERT INTO callbacks (provider, job_id, received_at, outcome, reason, event_id, headers, body)
            SELECT {string.Format(CultureInfo.InvariantCulture, Provider, "i")}, {Cat("'job_seed_'", Pad("i"))}, {t0} + i * {step * 10} + {step * 9},
                   CASE WHEN i % 100 = 7 THEN 'failed' WHEN i % 100 = 8 THEN 'duplicate' ELSE 'accepted' END,
                   CASE WHEN i % 100 = 7 THEN 'finished document without video_urls' WHEN i % 100 = 8 THEN 'anomaly: seeded' END,
                   NULL, '{"{}"}', '{"{\"status\":\"finished\"}"}'
            FROM {Series(jobs)}
            """,
            $"""
            INSERT INTO audit (at, admin_key_id, action, target, count, details)
            SELECT {t0} + i * 1000000, 'key_seed', CASE i % 3 WHEN 0 THEN 'events.replay' WHEN 1 THEN 'events.purge' ELSE 'callbacks.reprocess' END, 'seed', 1, NULL
            FROM {Series(1000)}
            """,
        };
        await using var connection = await db.OpenAsync(CancellationToken.None);
        foreach (var sql in statements) await connection.ExecuteAsync(new CommandDefinition(sql, commandTimeout: 600));
        // Fresh statistics, as autovacuum/ANALYZE would have after a month of traffic.
        await connection.ExecuteAsync(new CommandDefinition("ANALYZE", commandTimeout: 600, commandType: System.Data.CommandType.Text));
    }
}
