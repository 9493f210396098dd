using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Api.Providers.NanoGpt;
using WireMock.Logging;
using WireMock.Server;

namespace VideoCallbacks.Tests.Providers.Contract;

/// <summary>
/// A WireMockServer standing in for the providers, and the service's provider clients built by the
/// service's own registration (<c>AddProviders</c>, so the real submit/status HttpClients and their
/// resilience pipelines) pointed at it. No web host and no database: these tests check the wire.
/// </summary>
public sealed class ProviderStub : IDisposable
{
    public const string KieKey = "kie-test-key-0123";
    public const string ApiframeKey = "apiframe-test-key-0123";
    public const string NanoGptKey = "nanogpt-test-key-0123";
    public const string CallbackBase = "https://hooks.example.com/v1/callbacks";

    private readonly ServiceProvider _services;

    public ProviderStub(TimeSpan? timeout = null)
    {
        Server = WireMockServer.Start();
        // Long by default, so a loaded machine is not a timeout; the timeout tests pass their own.
        var t = (timeout ?? TimeSpan.FromSeconds(30)).ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Providers:Kie:BaseUrl"] = Server.Url,
            ["Providers:Kie:ApiKey"] = KieKey,
            ["Providers:Kie:Timeout"] = t,
            ["Providers:Apiframe:BaseUrl"] = Server.Url,
            ["Providers:Apiframe:ApiKey"] = ApiframeKey,
            ["Providers:Apiframe:Timeout"] = t,
            ["Providers:NanoGpt:BaseUrl"] = Server.Url,
            ["Providers:NanoGpt:ApiKey"] = NanoGptKey,
            ["Providers:NanoGpt:Timeout"] = t,
            ["Callbacks:PublicBaseUrl"] = "https://hooks.example.com",
        }).Build();
        _services = Services(configuration);
    }

    /// <summary>The service's provider registrations (<c>AddProviders</c>) and nothing else, on <paramref name="configuration"/>.</summary>
    public static ServiceProvider Services(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(configuration);
        services.AddSingleton<IServer, NotListening>();
        services.AddProviders(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>The registered providers, as the service builds them (for tests of what they decide, without a host).</summary>
    public static ProviderRegistry Registry() =>
        Services(new ConfigurationBuilder().Build()).GetRequiredService<ProviderRegistry>();

    public WireMockServer Server { get; }

    public KieProvider Kie => _services.GetRequiredService<KieProvider>();

    public ApiframeProvider Apiframe => _services.GetRequiredService<ApiframeProvider>();

    public NanoGptProvider NanoGpt => _services.GetRequiredService<NanoGptProvider>();

    /// <summary>Every request WireMock received on this path, in order.</summary>
    public IReadOnlyList<WireMock.IRequestMessage> Requests(string path) =>
        Server.LogEntries.Select(e => e.RequestMessage).OfType<WireMock.IRequestMessage>().Where(r => r.Path == path).ToList();

    /// <summary>
    /// WireMock logs a request once it has answered it, so after a client gave up on a slow reply, wait for
    /// the reply to go out before counting (this waits for the log, it asserts no timing).
    /// </summary>
    public Task SettledAsync() => Wait.UntilAsync(
        () => Task.FromResult(Server.LogEntries.Count), n => n > 0, "WireMock to log the delayed request");

    public WireMock.IRequestMessage OnlyRequest(string path) => Assert.Single(Requests(path));

    public static string Header(WireMock.IRequestMessage request, string name) =>
        request.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    public static bool HasHeader(WireMock.IRequestMessage request, string name) =>
        request.Headers!.Any(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    public static JsonElement Json(WireMock.IRequestMessage request)
    {
        return JsonElement.Parse(request.Body!);
    }

    /// <summary>The body's field names and JSON kinds, so a test can pin the exact shape.</summary>
    public static Dictionary<string, JsonValueKind> Shape(WireMock.IRequestMessage request) =>
        Json(request).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind);

    public static ProviderSubmission Submit(ExtensionRequest request, string? callbackUrl = null, string? secret = null) =>
        new(request, callbackUrl, secret);

    public void Dispose()
    {
        _services.Dispose();
        Server.Stop();
        Server.Dispose();
    }

    /// <summary>The clients only ask the server for its address in the sandbox, which is off here.</summary>
    private sealed class NotListening : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull =>
            Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
