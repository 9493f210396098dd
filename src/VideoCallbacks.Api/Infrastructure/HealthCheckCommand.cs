using System.Globalization;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>
/// <c>dotnet VideoCallbacks.Api.dll healthcheck</c>: the container image's HEALTHCHECK. The ASP.NET runtime image
/// has no curl, so the app checks itself: it GETs its own <c>/healthz</c> and exits 0 (healthy) or 1, without
/// building the host (no store, no workers, no second listener).
/// </summary>
public static class HealthCheckCommand
{
    public const string Argument = "healthcheck";

    public static bool IsRequested(string[] args) => args.Length > 0 && string.Equals(args[0], Argument, StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs the check with the process's environment and the arguments after <c>healthcheck</c>.</summary>
    public static int Run(string[] args)
    {
        // The same sources the host reads its addresses from: ASPNETCORE_* variables, then the command line.
        var settings = new ConfigurationBuilder()
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddCommandLine(args.Skip(1).ToArray())
            .Build();
        var url = HealthUrl(settings["urls"], settings["http_ports"]);
        var timeout = TimeSpan.TryParse(settings["timeout"], CultureInfo.InvariantCulture, out var t) ? t : TimeSpan.FromSeconds(5);
        return CheckAsync(url, timeout, Console.Out).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Where this process's <c>/healthz</c> answers: the first http address of <c>ASPNETCORE_URLS</c> (it wins over
    /// <c>ASPNETCORE_HTTP_PORTS</c>, as in the host), else the first of the HTTP ports, else Kestrel's default 5000.
    /// Wildcard hosts (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) mean "every interface", so the loopback is asked.
    /// </summary>
    public static Uri HealthUrl(string? urls, string? httpPorts)
    {
        static string[] Split(string? value) =>
            (value ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var url = Split(urls).FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
        if (url is not null)
        {
            var rest = url["http://".Length..];
            var hostEnd = rest.StartsWith('[') ? rest.IndexOf(']', StringComparison.Ordinal) + 1 : rest.IndexOfAny([':', '/']);
            var host = hostEnd <= 0 ? rest : rest[..hostEnd];
            var tail = hostEnd <= 0 ? "" : rest[hostEnd..];
            var port = tail.StartsWith(':') ? tail[1..].Split('/')[0] : "80";
            var callable = host is "+" or "*" or "0.0.0.0" or "[::]" or "" ? "127.0.0.1" : host;
            return new Uri($"http://{callable}:{port}/healthz");
        }

        var first = Split(httpPorts).FirstOrDefault();
        return new Uri($"http://127.0.0.1:{first ?? "5000"}/healthz");
    }

    /// <summary>GETs <paramref name="url"/>: 0 on a 2xx answer, 1 on anything else (error status, refused, timeout).</summary>
    public static async Task<int> CheckAsync(Uri url, TimeSpan timeout, TextWriter output)
    {
        // No host, so no IHttpClientFactory: one short-lived client for one request is what a probe needs.
        using var client = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await client.GetAsync(url);
            await output.WriteLineAsync($"{url} -> {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"{url} -> unhealthy: {e.Message}");
            return 1;
        }
    }
}
