using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using VideoCallbacks.Tests.Infrastructure;

namespace VideoCallbacks.Tests.Relay;

/// <summary>
/// The service as a real child process (<c>dotnet VideoCallbacks.Api.dll</c>), so a test can kill it outright
/// and start another on the same database.
/// </summary>
internal sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ApiProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
    }

    public int Port { get; }

    public Uri BaseUrl { get; }

    /// <summary>What the process wrote to stdout and stderr (the last few hundred lines).</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts the service on a free port with the test keys, the sandbox, and <paramref name="settings"/>
    /// (configuration keys, passed as <c>--Key=Value</c>).
    /// </summary>
    public static ApiProcess Start(SharedDatabase database, IReadOnlyDictionary<string, string> settings)
    {
        var dll = typeof(VideoCallbacks.Api.ApiAssembly).Assembly.Location;
        var port = PostgresServer.FreePort();
        var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var arguments = new Dictionary<string, string>
        {
            ["Storage:Provider"] = database.Provider,
            ["Storage:ConnectionString"] = database.ConnectionString,
            ["Auth:ApiKeys:0"] = TestApp.ClientKey,
            ["Auth:AdminApiKeys:0"] = TestApp.AdminKey,
            ["Sandbox:Enabled"] = "true",
            ["Sandbox:UnsafeAllowOutsideDevelopment"] = "true",
            ["Sandbox:CallbackDelay"] = "00:00:00.200",
            ["Sandbox:ProgressInterval"] = "00:00:00.100",
            ["Callbacks:PublicBaseUrl"] = url,
            ["RateLimits:PerKeyPerSecond"] = "1000",
            ["RateLimits:PerKeyBurst"] = "1000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            arguments[key] = value;
        }

        foreach (var argument in new[] { dll, "--urls", url, "--environment", "Testing" })
        {
            psi.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in arguments)
        {
            psi.ArgumentList.Add($"--{key}={value}");
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var api = new ApiProcess(process, port);
        process.OutputDataReceived += (_, e) => api.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => api.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {psi.FileName} {dll}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return api;
    }

    public HttpClient Client(string? apiKey = TestApp.ClientKey)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    public HttpClient Admin() => Client(TestApp.AdminKey);

    /// <summary>Waits until <c>/healthz</c> answers (start-up done, migrations applied); fails with the output if the process dies.</summary>
    public async Task WaitUntilUpAsync()
    {
        using var client = Client(apiKey: null);
        var deadline = DateTime.UtcNow + RelayKit.Patience;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new Xunit.Sdk.XunitException($"the service exited with {_process.ExitCode} during start-up:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"the service did not come up:{Environment.NewLine}{Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Ends the process at once, like a crash or an OOM kill: no graceful shutdown.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the service to stop the way an orchestrator does (SIGTERM): a graceful shutdown, not a kill.</summary>
    public async Task TerminateAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        // The shell's built-in kill: a slim Debian image has no /bin/kill (procps).
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "kill -TERM " + _process.Id.ToString(CultureInfo.InvariantCulture) },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not run /bin/sh");
        await kill.WaitForExitAsync();
    }

    /// <summary>Waits for the process to end on its own (e.g. refused start-up); kills it if it does not.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(RelayKit.Patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new Xunit.Sdk.XunitException($"the service did not exit:{Environment.NewLine}{Output}");
        }

        // Drain the redirected output.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 400 && _output.TryDequeue(out _))
        {
        }
    }
}
