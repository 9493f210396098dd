using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace VideoCallbacks.Testing;

/// <summary>
/// A throwaway PostgreSQL server started from the machine's binaries, once per test run, on a free
/// port. Each test gets its own database. Missing binaries fail the tests: they are never skipped.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartAsync(Durable));
    private static int _databases;

    private readonly string _dataDir;
    private readonly string _binDir;
    private readonly bool _asPostgresUser;

    private PostgresServer(string binDir, string dataDir, int port, bool asPostgresUser)
    {
        _binDir = binDir;
        _dataDir = dataDir;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    /// <summary>Folder of the PostgreSQL binaries (initdb, pg_ctl, pgbench, ...).</summary>
    public string BinDir => _binDir;

    /// <summary>The server's data directory (postmaster.pid, log.txt beside it).</summary>
    public string DataDir => Path.Combine(_dataDir, "data");

    /// <summary>
    /// Set <c>VC_PG_DURABLE=1</c> before the first use to start the server with fsync and synchronous commit on
    /// (benchmarks); tests leave it unset and run with durability off, for speed.
    /// </summary>
    public static bool Durable => Environment.GetEnvironmentVariable("VC_PG_DURABLE") == "1";

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>A fresh, empty database on the shared server.</summary>
    public static async Task<string> CreateDatabaseAsync() => await (await GetAsync()).NewDatabaseAsync();

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=40;Timeout=15";


    /// <summary>
    /// A server of the caller's own, not the tests' shared one, that it may stop (<see cref="StopAsync"/>) and start
    /// again (<see cref="StartAgainAsync"/>) on the same port and data directory, as an outage and a recovery would.
    /// <paramref name="durable"/> keeps fsync on, as in production.
    /// </summary>
    public static Task<PostgresServer> StartDedicatedAsync(bool durable = false) => StartAsync(durable);

    private static async Task<PostgresServer> StartAsync(bool durable)
    {
        var binDir = Path.GetDirectoryName(await Provisioning.EnsureAsync("PostgreSQL server binaries (initdb, pg_ctl)", "postgresql", "PG_BIN",
            () => FindBinDir() is { } dir ? Path.Combine(dir, "initdb") : null))!;
        var asPostgresUser = Environment.UserName == "root";
        SweepLeftovers(binDir, asPostgresUser);
        var dataDir = Path.Combine(Path.GetTempPath(), $"{DirPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        if (asPostgresUser)
        {
            // PostgreSQL refuses to run as root.
            await RunAsync("chown", ["-R", "postgres:postgres", dataDir], asUser: null);
        }
        var port = Ports.Free();
        var server = new PostgresServer(binDir, dataDir, port, asPostgresUser)
        {
            _settings = durable
                ? "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c track_wal_io_timing=on -c track_io_timing=on"
                : "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        };
        var pgdata = Path.Combine(dataDir, "data");
        await server.RunPgAsync("initdb", ["-D", pgdata, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
        await server.StartAgainAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    private string _settings = "";

    /// <summary>Starts the server (again) on its port and data directory.</summary>
    public Task StartAgainAsync() =>
        RunPgAsync("pg_ctl", ["-D", Path.Combine(_dataDir, "data"), "-l", Path.Combine(_dataDir, "log.txt"), "-w", "-t", "60", "start",
            "-o", $"-p {Port} -k {_dataDir} -c listen_addresses=127.0.0.1 {_settings} -c max_connections=300"]);

    /// <summary>Stops the server at once (<c>-m immediate</c>: no checkpoint, connections cut), like a crash of the database host.</summary>
    public Task StopAsync() => RunPgAsync("pg_ctl", ["-D", Path.Combine(_dataDir, "data"), "-m", "immediate", "-w", "stop"]);

    /// <summary>A fresh, empty database on this server.</summary>
    public async Task<string> NewDatabaseAsync()
    {
        var name = $"t_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..40];
        await using var c = new NpgsqlConnection(ConnectionString("postgres"));
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
        await cmd.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    private const string DirPrefix = "vc-pg-";

    /// <summary>
    /// Servers whose test process died without stopping them (a killed runner, Ctrl-C: no exit handler runs) keep
    /// running detached and keep their files, gigabytes each; they are stopped and deleted before a new one starts.
    /// A directory whose process (named in it) still runs belongs to a parallel run and is left alone.
    /// </summary>
    private static void SweepLeftovers(string binDir, bool asPostgresUser)
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), DirPrefix + "*"))
        {
            var pid = Path.GetFileName(dir)[DirPrefix.Length..].Split('-')[0];
            if (!int.TryParse(pid, CultureInfo.InvariantCulture, out var owner) || IsRunning(owner)) continue;
            new PostgresServer(binDir, dir, 0, asPostgresUser).Stop();
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Stops a dedicated server for good and deletes its files.</summary>
    public void Destroy() => Stop();

    private void Stop()
    {
        try
        {
            RunPgAsync("pg_ctl", ["-D", Path.Combine(_dataDir, "data"), "-m", "immediate", "stop"]).Wait(TimeSpan.FromSeconds(20));
        }
        catch (Exception e) when (e is InvalidOperationException or AggregateException)
        {
            // Not running (any more): its files still go.
        }
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temp directory is throwaway.
        }
    }

    private Task RunPgAsync(string tool, string[] args) =>
        RunAsync(Path.Combine(_binDir, tool), args, _asPostgresUser ? "postgres" : null);

    private static async Task RunAsync(string file, string[] args, string? asUser)
    {
        var psi = asUser is null ? new ProcessStartInfo(file) : new ProcessStartInfo("runuser", ["-u", asUser, "--", file, .. args]);
        if (asUser is null) foreach (var a in args) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = Path.GetTempPath();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        }
    }

    private static string? FindBinDir()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } env) candidates.Add(env);
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")));
        }
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }
}
