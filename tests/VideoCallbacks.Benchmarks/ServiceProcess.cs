using System.Diagnostics;
using System.Globalization;

namespace VideoCallbacks.Benchmarks;

/// <summary>The real service in its own process, as in production: the load generator never shares its CPU budget with it by accident.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    public const string ClientKey = "bench-client-key-0123456789abcdef";
    public const string AdminKey = "bench-admin-key-0123456789abcdef";

    private readonly Process _process;

    private ServiceProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public int Pid => _process.Id;

    public static async Task<ServiceProcess> StartAsync(string storageProvider, string connectionString, IReadOnlyDictionary<string, string>? extra = null)
    {
        var port = VideoCallbacks.Tests.Infrastructure.PostgresServer.FreePort();
        var dll = typeof(VideoCallbacks.Api.ApiAssembly).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        var settings = new Dictionary<string, string>
        {
            ["urls"] = $"http://127.0.0.1:{port}",
            ["environment"] = "Production",
            ["Storage:Provider"] = storageProvider,
            ["Storage:ConnectionString"] = connectionString,
            ["Auth:ApiKeys:0"] = ClientKey,
            ["Auth:AdminApiKeys:0"] = AdminKey,
            ["Callbacks:PublicBaseUrl"] = $"http://127.0.0.1:{port}",
            ["Sandbox:Enabled"] = "false",
            ["RateLimits:CallbacksPerSecond"] = "10000000",
            ["Logging:LogLevel:Default"] = "Warning",
            // Nothing to reconcile during a run.
            ["Reconcile:After"] = "01:00:00",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) settings[k] = v;
        psi.ArgumentList.Add(dll);
        foreach (var (k, v) in settings)
        {
            psi.ArgumentList.Add("--" + k);
            psi.ArgumentList.Add(v);
        }
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line && (line.Contains("\"Error\"", StringComparison.Ordinal) || line.Contains("\"Warning\"", StringComparison.Ordinal) || line.Contains("Relay round", StringComparison.Ordinal) || line.Contains("Ingest stats", StringComparison.Ordinal))) Console.Error.WriteLine(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient { BaseAddress = service.BaseUrl };
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited) throw new InvalidOperationException($"The service exited with {process.ExitCode} during start-up.");
            try
            {
                if ((await http.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode) return service;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The service did not become ready in 30 s.");
    }

    /// <summary>Peak resident set size (VmHWM) of the service process.</summary>
    public long? PeakMemoryBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
