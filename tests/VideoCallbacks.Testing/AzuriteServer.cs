using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace VideoCallbacks.Testing;

/// <summary>
/// A throwaway Azurite Blob service (Microsoft's Azure Storage emulator, npm package <c>azurite</c> at a pinned version)
/// on a free port with its own temp dir. <see cref="GetAsync"/> is the one instance of the test run, shared; a test that
/// stops storage takes its own (<see cref="StartDedicatedAsync"/>). The package is installed by the kit
/// (<see cref="Provisioning.EnsureNpmAsync"/>) or the test fails with the command to run: it is never skipped.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    public const string Version = "3.37.0";

    /// <summary>Azurite's well-known development account; its key is public, in Microsoft's documentation.</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string DirPrefix = "vc-azurite-";

    private static readonly Lazy<Task<AzuriteServer>> Shared = new(() => StartAsync(shared: true));

    // Connection: close on every probe, so no pooled connection outlives a stop and no idle one delays Azurite's shutdown.
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly string _node;
    private readonly string _script;
    private readonly bool _shared;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private AzuriteServer(string node, string script, string location, int port, bool shared)
    {
        _node = node;
        _script = script;
        Location = location;
        Port = port;
        _shared = shared;
    }

    public int Port { get; }

    /// <summary>Azurite's workspace (blob index and contents); it survives <see cref="StopAsync"/>, and goes on dispose.</summary>
    public string Location { get; }

    /// <summary>The account's blob endpoint, path style: <c>http://127.0.0.1:PORT/devstoreaccount1</c>.</summary>
    public string BlobEndpoint => $"http://127.0.0.1:{Port}/{AccountName}";

    /// <summary>The connection string for the dev account, as the Azure SDK takes it.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    /// <summary>The test run's Azurite, started on first use and stopped when the process exits. Tests sharing it use their own containers.</summary>
    public static Task<AzuriteServer> GetAsync() => Shared.Value;

    /// <summary>
    /// An Azurite of the caller's own, which it may stop (<see cref="StopAsync"/>) and start again
    /// (<see cref="StartAgainAsync"/>) on the same port and workspace, as an outage and a recovery would; dispose it.
    /// </summary>
    public static Task<AzuriteServer> StartDedicatedAsync() => StartAsync(shared: false);

    private static async Task<AzuriteServer> StartAsync(bool shared)
    {
        var (node, script) = await Provisioning.EnsureNpmAsync($"Azurite {Version} (azurite-blob)", "azurite", Version, "azurite-blob", "AZURITE_BLOB");
        SweepLeftovers();
        var location = Path.Combine(Path.GetTempPath(), $"{DirPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(location);
        for (var attempt = 1; ; attempt++)
        {
            var server = new AzuriteServer(node, script, location, Ports.Free(), shared);
            try
            {
                await server.StartAgainAsync();
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Destroy();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Lost the port to someone else between the check and the bind (EADDRINUSE): try another.
                server.Kill();
            }
        }
    }

    /// <summary>Starts Azurite (again) on its port and workspace, with the blobs it had when stopped.</summary>
    public async Task StartAgainAsync()
    {
        if (_process is not null) throw new InvalidOperationException($"Azurite is already running on port {Port}.");
        var psi = new ProcessStartInfo(_node)
        {
            // Held open by this process and never written: when this test process ends, however it ends (the test
            // host is not always let run its exit handlers), the pipe closes and the preload below stops Azurite.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Location,
        };
        var exitWithParent = Path.Combine(Location, "exit-with-parent.js");
        await File.WriteAllTextAsync(exitWithParent,
            "process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume();\n");
        psi.ArgumentList.Add("--require");
        psi.ArgumentList.Add(exitWithParent);
        psi.ArgumentList.Add(_script);
        foreach (var a in Arguments(Port, Location)) psi.ArgumentList.Add(a);
        // A machine's own accounts would replace the well-known dev account the connection string names.
        psi.Environment.Remove("AZURITE_ACCOUNTS");
        lock (_output) _output.Clear();
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {_node}");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        // Read by SweepLeftovers if this test process dies without stopping it.
        await File.WriteAllTextAsync(Path.Combine(Location, "azurite.pid"), process.Id.ToString(CultureInfo.InvariantCulture));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await AnswersAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                Kill();
                string log;
                lock (_output) log = _output.ToString();
                throw new InvalidOperationException($"Azurite did not start on port {Port}: {log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>The command line after the script: one account, path-style URLs on 127.0.0.1, no access log, no telemetry.</summary>
    public static IReadOnlyList<string> Arguments(int port, string location) =>
    [
        "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--location", location,
        // Any SDK version's x-ms-version and headers Azurite does not know are accepted, as by the real service.
        "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
    ];

    /// <summary>
    /// Stops Azurite: connections are refused until <see cref="StartAgainAsync"/>. SIGTERM first, then the process tree
    /// is killed if it lingers: Azurite saves its blob index on close but otherwise only every 5 s, so a bare SIGKILL
    /// right after an upload forgets the blob (seen with 3.37.0).
    /// </summary>
    public async Task StopAsync()
    {
        if (_shared) throw new InvalidOperationException("The shared Azurite serves every test: stop one from StartDedicatedAsync.");
        if (_process is not { } p) return;
        if (!p.HasExited)
        {
            // The shell's built-in kill: a slim Debian image has no /bin/kill (procps).
            using var term = Process.Start(new ProcessStartInfo("/bin/sh")
            {
                ArgumentList = { "-c", "kill -TERM " + p.Id.ToString(CultureInfo.InvariantCulture) },
                UseShellExecute = false,
            }) ?? throw new InvalidOperationException("could not run /bin/sh");
            await term.WaitForExitAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await p.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                // Still closing (a request in flight): killed below.
            }
        }
        Kill();
    }

    /// <summary>Answers any HTTP status (403 without credentials): the service is listening and handling requests.</summary>
    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{BlobEndpoint}?comp=list"));
            request.Headers.ConnectionClose = true;
            using var response = await Probe.SendAsync(request);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 16_000) _output.AppendLine(line);
        }
    }

    private void Kill()
    {
        if (_process is not { } p) return;
        _process = null;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        p.Dispose();
    }

    private void Destroy()
    {
        Kill();
        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort (or already deleted): the temp directory is throwaway.
        }
    }

    /// <summary>
    /// Azurites whose test process died without stopping them (a killed runner: no exit handler runs) keep running,
    /// ~150 MB each; they are killed and their workspaces deleted before a new one starts. A workspace whose test
    /// process (named in it) still runs belongs to a parallel run and is left alone.
    /// </summary>
    private static void SweepLeftovers()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), DirPrefix + "*"))
        {
            var owner = Path.GetFileName(dir)[DirPrefix.Length..].Split('-')[0];
            if (!int.TryParse(owner, CultureInfo.InvariantCulture, out var ownerPid) || IsRunning(ownerPid)) continue;
            try
            {
                // Only a process still running Azurite on this workspace: its pid may have been reused since.
                if (int.TryParse(File.ReadAllText(Path.Combine(dir, "azurite.pid")), CultureInfo.InvariantCulture, out var pid)
                    && File.ReadAllText($"/proc/{pid}/cmdline").Contains(dir, StringComparison.Ordinal))
                {
                    using var leftover = Process.GetProcessById(pid);
                    leftover.Kill(entireProcessTree: true);
                    leftover.WaitForExit(10_000);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or Win32Exception)
            {
                // No pid file, or the process is gone: only the files are left.
            }
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: tried again by the next start.
            }
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

    /// <summary>Stops a dedicated Azurite and deletes its workspace. The shared one is left to the exit handler: other tests use it.</summary>
    public ValueTask DisposeAsync()
    {
        if (!_shared) Destroy();
        return ValueTask.CompletedTask;
    }
}
