using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace VideoCallbacks.Testing;

/// <summary>
/// The service as a real child process (<c>dotnet VideoCallbacks.Api.dll</c>), as in production: a test or a
/// benchmark can kill it outright, stop it gracefully, start another on the same database, and the load
/// generator never shares the service's CPU budget by accident.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Action<string>? _echo;

    private ServiceProcess(Process process, int port, Action<string>? echo)
    {
        _process = process;
        _echo = echo;
        Port = port;
        BaseUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
    }

    public int Port { get; }

    public Uri BaseUrl { get; }

    public int Pid => _process.Id;

    /// <summary>What the process wrote to stdout and stderr (the last few hundred lines).</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the service on a free port (or <paramref name="port"/>) with the test keys, the sandbox and
    /// <paramref name="settings"/> (configuration keys, passed as <c>--Key=Value</c>; they override the defaults).
    /// <paramref name="echo"/> sees every line the process writes.
    /// </summary>
    public static ServiceProcess Start(SharedDatabase database, IReadOnlyDictionary<string, string>? settings = null,
        string environment = "Testing", int? port = null, Action<string>? echo = null) =>
        Start(database.Provider, database.ConnectionString, settings, environment, port, echo);

    public static ServiceProcess Start(string storageProvider, string connectionString, IReadOnlyDictionary<string, string>? settings = null,
        string environment = "Testing", int? port = null, Action<string>? echo = null)
    {
        var dll = typeof(VideoCallbacks.Api.ApiAssembly).Assembly.Location;
        var p = port ?? Ports.Free();
        var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{p}");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var arguments = new Dictionary<string, string>
        {
            ["Storage:Provider"] = storageProvider,
            ["Storage:ConnectionString"] = connectionString,
            ["Auth:ApiKeys:0"] = TestKeys.Client,
            ["Auth:ApiKeys:1"] = TestKeys.OtherClient,
            ["Auth:AdminApiKeys:0"] = TestKeys.Admin,
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:UnsafeAllowOutsideDevelopment"] = "true",
            ["Sandbox:CallbackDelay"] = "00:00:00.200",
            ["Sandbox:ProgressInterval"] = "00:00:00.100",
            ["Callbacks:PublicBaseUrl"] = url,
            ["RateLimits:PerKeyPerSecond"] = "1000",
            ["RateLimits:PerKeyBurst"] = "1000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Archive:Store"] = "None",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) arguments[key] = value;
        foreach (var argument in new[] { dll, "--urls", url, "--environment", environment }) psi.ArgumentList.Add(argument);
        foreach (var (key, value) in arguments) psi.ArgumentList.Add($"--{key}={value}");

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, p, echo);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"could not start {psi.FileName} {dll}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary><see cref="Start(SharedDatabase, IReadOnlyDictionary{string, string}?, string, int?, Action{string}?)"/>, then waits until it is up.</summary>
    public static async Task<ServiceProcess> StartAsync(string storageProvider, string connectionString, IReadOnlyDictionary<string, string>? settings = null,
        string environment = "Testing", int? port = null, Action<string>? echo = null)
    {
        var service = Start(storageProvider, connectionString, settings, environment, port, echo);
        try
        {
            await service.WaitUntilUpAsync();
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>The one way to talk to this process (client key; <see cref="ServiceApi.As"/> for others), disposed with it.</summary>
    public ServiceApi Driver => _driver ??= new ServiceApi(BaseUrl);

    private ServiceApi? _driver;

    /// <summary>Waits until <paramref name="path"/> answers 2xx (start-up done, migrations applied); fails with the output if the process dies.</summary>
    public async Task WaitUntilUpAsync(string path = "/healthz")
    {
        var client = Driver.Anonymous;
        var deadline = DateTime.UtcNow + Wait.Default;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the service exited with {_process.ExitCode} during start-up:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline) throw new WaitTimeoutException($"the service did not come up:{Environment.NewLine}{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Ends the process at once (SIGKILL), like a crash or an OOM kill: no graceful shutdown.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the service to stop the way an orchestrator does (SIGTERM): a graceful shutdown, not a kill.</summary>
    public async Task TerminateAsync()
    {
        if (_process.HasExited) return;

        // The shell's built-in kill: a slim Debian image has no /bin/kill (procps).
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "kill -TERM " + _process.Id.ToString(CultureInfo.InvariantCulture) },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not run /bin/sh");
        await kill.WaitForExitAsync();
    }

    /// <summary>Waits for the process to end on its own (e.g. refused start-up, SIGTERM); kills it if it does not.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Wait.Default);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new WaitTimeoutException($"the service did not exit:{Environment.NewLine}{Output}");
        }

        // Drain the redirected output.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>Peak resident set size (VmHWM) of the service process, while it runs.</summary>
    public long? PeakMemoryBytes() => StatusBytes("VmHWM:");

    /// <summary>Resident set size now (VmRSS) of the service process, while it runs.</summary>
    public long? ResidentMemoryBytes() => StatusBytes("VmRSS:");

    /// <summary>A kB figure from /proc/PID/status, in bytes.</summary>
    private long? StatusBytes(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _driver?.Dispose();
        await KillAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _echo?.Invoke(line);
        _output.Enqueue(line);
        while (_output.Count > 400 && _output.TryDequeue(out _))
        {
        }
    }
}
