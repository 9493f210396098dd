using System.Globalization;
using Npgsql;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// What the machine and PostgreSQL did during a measured window: CPU split between PostgreSQL, the service, the load
/// generator and everything else (the machine is shared), load average, checkpoints, WAL writes and syncs. Taken as
/// a snapshot before and after; the difference is printed.
/// </summary>
public sealed class RunDiagnostics
{
    internal const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly string _loadBefore;
    private readonly long _machineBusy, _machineTotal, _postgres, _service, _children, _self;
    /// <summary>Null on a run without PostgreSQL: only the CPU split is printed.</summary>
    private readonly Dictionary<string, double>? _pg;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly int? _servicePid;

    private RunDiagnostics(int? servicePid, Dictionary<string, double>? pg)
    {
        _servicePid = servicePid;
        _loadBefore = LoadAverage();
        (_machineBusy, _machineTotal) = MachineTicks();
        _postgres = PostgresTicks();
        _service = servicePid is { } pid ? ProcessTicks(pid).Own : 0;
        (_self, _children) = ProcessTicks(Environment.ProcessId);
        _pg = pg;
    }

    /// <param name="servicePid">The service process, if one runs.</param>
    /// <param name="postgres">Whether the run uses the throwaway PostgreSQL server (its statistics are printed too).</param>
    public static async Task<RunDiagnostics> StartAsync(int? servicePid, bool postgres = true) => new(servicePid, postgres ? await PgStatsAsync() : null);

    /// <summary>
    /// Ends the window. The load generator (wrk, pgbench) is a child process that exited inside the window, so its
    /// CPU shows in this process's reaped-children time.
    /// </summary>
    public async Task<string> StopAsync(string loadGenerator)
    {
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var (busy, total) = MachineTicks();
        var postgres = PostgresTicks() - _postgres;
        var service = _servicePid is { } pid ? ProcessTicks(pid).Own - _service : 0;
        var (self, children) = ProcessTicks(Environment.ProcessId);
        var generator = children - _children;
        var bench = self - _self;
        var machine = busy - _machineBusy;
        var other = Math.Max(0, machine - postgres - service - generator - bench);
        var cores = (total - _machineTotal) / TicksPerSecond / Math.Max(seconds, 0.001);
        string Cpu(long ticks) => FormattableString.Invariant($"{ticks / TicksPerSecond / Math.Max(seconds, 0.001):F2}");
        var lines = new List<string>
        {
            FormattableString.Invariant($"window {seconds:F1} s; load average before [{_loadBefore}] after [{LoadAverage()}]"),
            FormattableString.Invariant($"CPU (cores busy, of {cores:F1}): postgres {Cpu(postgres)}, service {Cpu(service)}, {loadGenerator} {Cpu(generator)}, benchmark process {Cpu(bench)}, other processes {Cpu(other)}, idle {Cpu(Math.Max(0, total - _machineTotal - machine))}"),
        };
        if (_pg is null) return string.Join(Environment.NewLine, lines);
        var pg = await PgStatsAsync();
        double D(string k) => pg.GetValueOrDefault(k) - _pg.GetValueOrDefault(k);
        lines.AddRange(
        [
            FormattableString.Invariant($"postgres: commits {D("xact_commit"):F0} ({D("xact_commit") / seconds:F0}/s); checkpoints timed {D("checkpoints_timed"):F0} requested {D("checkpoints_req"):F0}, checkpoint write {D("checkpoint_write_time"):F0} ms sync {D("checkpoint_sync_time"):F0} ms, buffers written by checkpointer {D("buffers_checkpoint"):F0} bgwriter {D("buffers_clean"):F0} backends {D("buffers_backend"):F0}"),
            FormattableString.Invariant($"WAL: {D("wal_records"):F0} records, {D("wal_bytes") / 1048576:F1} MB, full-page images {D("wal_fpi"):F0}, buffers full {D("wal_buffers_full"):F0}, writes {D("wal_write"):F0} ({D("wal_write_time"):F0} ms), syncs {D("wal_sync"):F0} ({D("wal_sync_time"):F0} ms, {D("wal_sync_time") / Math.Max(1, D("wal_sync")):F2} ms each; {D("xact_commit") / Math.Max(1, D("wal_sync")):F1} commits per sync)"),
        ]);
        return string.Join(Environment.NewLine, lines);
    }

    private static async Task<Dictionary<string, double>> PgStatsAsync()
    {
        var server = await PostgresServer.GetAsync();
        await using var c = new NpgsqlConnection(server.ConnectionString("postgres"));
        await c.OpenAsync();
        var values = new Dictionary<string, double>();
        foreach (var sql in (string[])[
            "SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time, buffers_checkpoint, buffers_clean, buffers_backend FROM pg_stat_bgwriter",
            "SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync, wal_write_time, wal_sync_time FROM pg_stat_wal",
            "SELECT sum(xact_commit) AS xact_commit FROM pg_stat_database"])
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            for (var i = 0; i < r.FieldCount; i++) values[r.GetName(i)] = Convert.ToDouble(r.GetValue(i), CultureInfo.InvariantCulture);
        }
        return values;
    }

    /// <summary>The 1-, 5- and 15-minute load averages, as <c>uptime</c> shows them.</summary>
    internal static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>All CPUs' busy and total ticks since boot (/proc/stat).</summary>
    private static (long Busy, long Total) MachineTicks()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var idle = f[3] + f[4];
        var total = f.Take(8).Sum();
        return (total - idle, total);
    }

    /// <summary>A process's own user+system ticks and those of its children it has reaped.</summary>
    internal static (long Own, long Children) ProcessTicks(int pid)
    {
        var f = StatFields(pid);
        return f is null ? (0, 0) : (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture),
            long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture));
    }

    /// <summary>The throwaway server's postmaster and its children (backends, WAL writer, checkpointer, ...), live or reaped.</summary>
    private static long PostgresTicks()
    {
        var server = PostgresServer.GetAsync().GetAwaiter().GetResult();
        var postmaster = int.Parse(File.ReadLines(Path.Combine(server.DataDir, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            var f = StatFields(pid);
            if (f is null || (pid != postmaster && f[1] != postmaster.ToString(CultureInfo.InvariantCulture))) continue;
            ticks += long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            // Backends that exited (a client disconnected) were reaped by the postmaster: their CPU is in its children's time.
            if (pid == postmaster) ticks += long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
        }
        return ticks;
    }

    /// <summary>/proc/PID/stat fields after the command name (index 0 = state, 1 = ppid, 11 = utime, ...).</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var s = File.ReadAllText($"/proc/{pid}/stat");
            return s[(s.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
