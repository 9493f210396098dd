using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// The ceiling ingest is compared with: the same wrk requests against a bare Kestrel endpoint that reads the body
/// and answers 200, nothing else (no verification, no store). It runs as a child process of this benchmark with the
/// service's runtime settings (workstation GC), so the ratio compares like with like on the same two cores.
/// </summary>
public static class BareKestrel
{
    public const string Mode = "bare-kestrel";

    /// <summary>The child process: serves until killed.</summary>
    public static async Task<int> ServeAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(FormattableString.Invariant($"http://127.0.0.1:{port}"));
        var app = builder.Build();
        app.MapPost("/v1/callbacks/{provider}/{jobId}/{token}", async (HttpRequest request) =>
        {
            // Read the body as the service does, so the comparison is about what the service does with it.
            var buffer = new byte[4096];
            while (await request.Body.ReadAsync(buffer) > 0) { }
            return Results.Text("""{"status":"accepted"}""", "application/json");
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>Starts the child, runs wrk's warm-up and measured runs against it, stops it; returns wrk's parsed output.</summary>
    public static async Task<(double Rate, Latencies Latency, string Raw)> MeasureAsync(string script, BenchmarkOptions o)
    {
        var port = VideoCallbacks.Testing.Ports.Free();
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(typeof(BareKestrel).Assembly.Location);
        psi.ArgumentList.Add(Mode);
        psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        psi.Environment["DOTNET_gcServer"] = "0";
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not start the bare Kestrel child process");
        try
        {
            await WaitForPortAsync(port);
            var url = new Uri(FormattableString.Invariant($"http://127.0.0.1:{port}"));
            await CallbackBenchmarks.RunWrkAsync(url, script, o.Concurrency, o.WarmupSeconds);
            var output = await CallbackBenchmarks.RunWrkAsync(url, script, o.Concurrency, o.Seconds);
            var (requests, errors, latency) = CallbackBenchmarks.ParseWrk(output);
            if (errors > 0) throw new InvalidOperationException($"bare Kestrel answered {errors} requests with errors:{Environment.NewLine}{output}");
            return (requests / o.Seconds, latency, output);
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
