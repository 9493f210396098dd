using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// The raw SQL baseline for PostgreSQL ingest: pgbench (C, prepared statements, its own connections) drives the
/// statements the service writes per callback (outbox event insert, job update, raw callback insert, commit; one
/// transaction per callback) against the same server, so service figures can be given as ratios to it. Run twice:
/// the three statements alone, and with the outbox sequence lock the service takes before inserting events
/// (<c>pg_advisory_xact_lock</c>, held to the commit), which is the same work as the service's <c>direct</c> mode.
/// </summary>
public static partial class PgBench
{
    /// <summary>PostgresDatabase's outbox lock key.</summary>
    private const long OutboxLock = 0x5643_0002;

    public static async Task<IReadOnlyList<BenchmarkResult>> RunBothAsync(BenchmarkOptions o) =>
        [await RunAsync(o, outboxLock: false), await RunAsync(o, outboxLock: true)];

    public static async Task<BenchmarkResult> RunAsync(BenchmarkOptions o, bool outboxLock)
    {
        var server = await PostgresServer.GetAsync();
        var cs = await PostgresServer.CreateDatabaseAsync();
        var database = new NpgsqlConnectionStringBuilder(cs).Database!;
        await using (var db = new PostgresDatabase(NpgsqlDataSource.Create(cs), new StoreSettings(TimeProvider.System, PublishedOnCommit: false)))
        {
            await db.MigrateAsync(CancellationToken.None);
        }
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            // The same rows the other modes seed through the stores, made in one statement.
            await using var seed = new NpgsqlCommand("""
                INSERT INTO jobs (job_id, provider, provider_task_id, status, submission, request_json, token_hash, secret_hash,
                                  source_task_id, idx, created_at, updated_at)
                SELECT 'pgb_' || i, 'apiframe', 'pgb-task-' || i, 'submitted', 'accepted', '{}', 'hash', 'hash', 'bench', 0, 0, 0
                FROM generate_series(1, @jobs) AS i
                """, c);
            seed.Parameters.AddWithValue("jobs", o.Jobs);
            await seed.ExecuteNonQueryAsync();
            await using var analyze = new NpgsqlCommand("VACUUM ANALYZE jobs", c);
            await analyze.ExecuteNonQueryAsync();
        }

        var dir = Path.Combine(Path.GetTempPath(), $"vc-pgbench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var script = Path.Combine(dir, "ingest.sql");
        await File.WriteAllTextAsync(script, Script(outboxLock));
        var diagnostics = await RunDiagnostics.StartAsync(servicePid: null);
        var psi = new ProcessStartInfo(Path.Combine(server.BinDir, "pgbench"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir,
        };
        foreach (var a in (string[])["-h", "127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
            "-n", "-M", "prepared", "-c", o.Concurrency.ToString(CultureInfo.InvariantCulture), "-j", "2",
            "-T", o.Seconds.ToString(CultureInfo.InvariantCulture), "-P", "5", "-D", $"jobs={o.Jobs}",
            "-f", script, "--log", "--log-prefix", Path.Combine(dir, "tx"), database])
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("pgbench did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var output = await stdout + await stderr;
        var diag = await diagnostics.StopAsync("pgbench");
        if (p.ExitCode != 0) throw new InvalidOperationException($"pgbench failed ({p.ExitCode}): {output}");

        // Per-transaction log lines: client_id transaction_no latency_us script_no epoch epoch_us.
        var samples = Directory.EnumerateFiles(dir, "tx.*")
            .SelectMany(File.ReadLines)
            .Select(l => l.Split(' '))
            .Where(f => f.Length >= 3)
            .Select(f => double.Parse(f[2], CultureInfo.InvariantCulture) / 1000)
            .ToList();
        Directory.Delete(dir, recursive: true);
        var failed = Failed().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        var progress = string.Join(" | ", output.Split('\n').Where(l => l.StartsWith("progress:", StringComparison.Ordinal)).Select(l => l.Trim()));
        return new BenchmarkResult(outboxLock ? "pgbench (3 statements + outbox lock, 1 tx per callback)" : "pgbench (3 statements, 1 tx per callback)",
            o, samples.Count, failed, o.Seconds, Latencies.Of(samples), null,
            $"pgbench {Tps().Match(output).Value}; {progress}{Environment.NewLine}{diag}");
    }

    /// <summary>
    /// (pgbench takes <c>:word</c> for a variable even inside a string literal, hence the space in <c>": null"</c> and the split <c>':' || 'progress:'</c>.)
    /// The service's per-callback statements (see EventRows.InsertAsync, JobRows.UpdateManyAsync and
    /// IngestStore.RecordCallbacksAsync), one row each, with bodies of the same size.
    /// </summary>
    private static string Script(bool outboxLock) =>
        $$$"""
        \set n random(1, :jobs)
        \set pct random(1, 99)
        BEGIN;
        {{{(outboxLock ? $"SELECT pg_advisory_xact_lock({OutboxLock});" : "")}}}
        INSERT INTO events (event_id, job_id, provider, type, job_status, correlation_id, time, data, status, attempts, next_attempt_at, published_at, trace_parent) VALUES ('pgb_' || CAST(:n AS text) || ':' || 'progress:' || gen_random_uuid(), 'pgb_' || CAST(:n AS text), 'apiframe', 'video.extension.progress', 'processing', NULL, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, '{"jobId":"pgb_' || CAST(:n AS text) || '","provider":"apiframe","providerTaskId":"pgb-task-' || CAST(:n AS text) || '","sourceTaskId":"bench","index": 0,"status":"processing","progress":' || CAST(:pct AS text) || ',"videoUrls":[],"error": null,"correlationId": null,"metadata":{}}', 'pending', 0, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, NULL, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00') ON CONFLICT (event_id) DO NOTHING;
        UPDATE jobs SET provider_task_id = 'pgb-task-' || CAST(:n AS text), status = 'processing', submission = 'accepted', progress = CAST(:pct AS bigint), video_urls = '[]', error_code = NULL, error_message = NULL, updated_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint, next_check_at = NULL, check_attempts = 0 WHERE job_id = 'pgb_' || CAST(:n AS text);
        INSERT INTO callbacks (provider, job_id, received_at, outcome, reason, event_id, headers, body) VALUES ('apiframe', 'pgb_' || CAST(:n AS text), (extract(epoch FROM clock_timestamp()) * 1000)::bigint, 'accepted', NULL, 'pgb_' || CAST(:n AS text) || ':' || 'progress:' || CAST(:pct AS text), '{"Content-Type":"application/json"}', '{"task_id":"pgb-task-' || CAST(:n AS text) || '","task_type":"imagine-video-extend","status":"processing","percentage":"' || CAST(:pct AS text) || '"}');
        END;

        """;

    [GeneratedRegex(@"tps = [\d.]+")]
    private static partial Regex Tps();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex Failed();
}
