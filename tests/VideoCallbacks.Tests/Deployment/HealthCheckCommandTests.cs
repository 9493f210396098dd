using System.Diagnostics;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Deployment;

/// <summary>
/// The container image's HEALTHCHECK runs <c>dotnet VideoCallbacks.Api.dll healthcheck</c> (the runtime image has
/// no curl). These run that exact command as a child process, with the address in the environment as the image sets it.
/// </summary>
public sealed class HealthCheckCommandTests
{
    [Fact]
    public async Task Healthcheck_exits_0_when_the_service_on_ASPNETCORE_HTTP_PORTS_answers_healthz()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);

        var (exitCode, output) = await RunHealthCheckAsync(new() { ["ASPNETCORE_HTTP_PORTS"] = Port(app.Port) });

        Assert.True(exitCode == 0, output);
        Assert.Contains($"http://127.0.0.1:{Port(app.Port)}/healthz -> 200", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal); // the check never starts a host of its own
    }

    [Fact]
    public async Task Healthcheck_exits_1_when_nothing_listens_on_the_port()
    {
        var closedPort = Ports.Free();

        var (exitCode, output) = await RunHealthCheckAsync(new() { ["ASPNETCORE_HTTP_PORTS"] = Port(closedPort) });

        Assert.True(exitCode == 1, output);
        Assert.Contains("unhealthy", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthcheck_follows_ASPNETCORE_URLS_over_ASPNETCORE_HTTP_PORTS_like_the_host_does()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var closedPort = Ports.Free();

        var (exitCode, output) = await RunHealthCheckAsync(new()
        {
            ["ASPNETCORE_URLS"] = $"http://+:{Port(app.Port)}",
            ["ASPNETCORE_HTTP_PORTS"] = Port(closedPort),
        });

        Assert.True(exitCode == 0, output);
    }

    [Theory]
    [InlineData("http://+:8080", null, "http://127.0.0.1:8080/healthz")]
    [InlineData("http://*:9000;https://*:9443", null, "http://127.0.0.1:9000/healthz")]
    [InlineData("https://+:8443;http://0.0.0.0:8081", null, "http://127.0.0.1:8081/healthz")]
    [InlineData("http://[::]:7000", "8080", "http://127.0.0.1:7000/healthz")]
    [InlineData("http://localhost:5005/", null, "http://localhost:5005/healthz")]
    [InlineData(null, "8080", "http://127.0.0.1:8080/healthz")]
    [InlineData(null, "8081;8082", "http://127.0.0.1:8081/healthz")]
    [InlineData(null, null, "http://127.0.0.1:5000/healthz")]
    public void Healthcheck_asks_the_first_http_address_the_host_listens_on(string? urls, string? httpPorts, string expected) =>
        Assert.Equal(new Uri(expected), HealthCheckCommand.HealthUrl(urls, httpPorts));

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs <c>dotnet VideoCallbacks.Api.dll healthcheck</c> with only the given ASP.NET Core address variables set.</summary>
    private static async Task<(int ExitCode, string Output)> RunHealthCheckAsync(Dictionary<string, string> environment)
    {
        var dll = typeof(VideoCallbacks.Api.ApiAssembly).Assembly.Location;
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("healthcheck");
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS" })
        {
            psi.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"the healthcheck did not exit:{Environment.NewLine}{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
