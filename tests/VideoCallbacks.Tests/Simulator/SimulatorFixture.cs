using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VideoCallbacks.Tests.Simulator;

/// <summary>One real Kestrel host serving the simulator and a receiver that records the callbacks it gets.</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public const string KieHmacKey = "test-kie-hmac-key";
    public const string KieKey = "test-kie-key";
    public const string ApiframeKey = "test-apiframe-key";
    public const string NanoGptKey = "test-nanogpt-key";

    private WebApplication? app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public SimulatorState State => app!.Services.GetRequiredService<SimulatorState>();

    public CallbackReceiver Receiver { get; } = new();

    /// <summary>A fresh receiving URL, so tests running side by side never read each other's callbacks.</summary>
    public string NewHook(string kind = "ok") => new Uri(BaseAddress, $"/hooks/{kind}-{Guid.NewGuid():N}").ToString();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddProviderSimulator(options =>
        {
            options.KieWebhookHmacKey = KieHmacKey;
            options.CallbackDelay = TimeSpan.FromMilliseconds(100);
            options.ProgressInterval = TimeSpan.FromMilliseconds(50);
            options.KieApiKey = KieKey;
            options.ApiframeApiKey = ApiframeKey;
            options.NanoGptApiKey = NanoGptKey;
        });

        app = builder.Build();
        app.MapProviderSimulator();
        app.MapPost("/hooks/{name}", async (HttpContext context, string name) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var attempt = Receiver.Record(name, headers, body);
            // "failfirst-*" hooks answer 500 once, to exercise provider retries.
            return name.StartsWith("failfirst-", StringComparison.Ordinal) && attempt == 1
                ? Results.StatusCode(StatusCodes.Status500InternalServerError)
                : Results.Ok();
        });

        await app.StartAsync();
        BaseAddress = new Uri(app.Urls.First());
        Http = new HttpClient { BaseAddress = new Uri(BaseAddress, "/sandbox/") };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

public sealed record ReceivedCallback(string Hook, IReadOnlyDictionary<string, string> Headers, string Body);

public sealed class CallbackReceiver
{
    private readonly ConcurrentQueue<ReceivedCallback> received = new();
    private readonly ConcurrentDictionary<string, int> attempts = new();

    /// <summary>Records a delivery and returns how many times this hook has been hit.</summary>
    public int Record(string hook, IReadOnlyDictionary<string, string> headers, string body)
    {
        received.Enqueue(new ReceivedCallback(hook, headers, body));
        return attempts.AddOrUpdate(hook, 1, (_, n) => n + 1);
    }

    public IReadOnlyList<ReceivedCallback> For(string hookUrl)
    {
        var hook = hookUrl[(hookUrl.LastIndexOf('/') + 1)..];
        return received.Where(r => r.Hook == hook).ToArray();
    }
}
