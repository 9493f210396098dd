using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>What the service handed a provider at submit time: where to call back and, for Apiframe, the webhook secret.</summary>
public sealed record HandedOver(string Provider, string TaskId, string JobId, string Token, string CallbackUrl, string? WebhookSecret);

/// <summary>
/// Kie.ai, Apiframe and NanoGPT as far as submissions go, in this process, so a scenario can run the real service
/// with its sandbox off and real secrets configured, and still know every callback URL and webhook secret it handed
/// out. A minimal API rather than WireMock: each answer needs a fresh task id and each request's callback URL and
/// secret must be recorded, which is two lines of code here and a templating/callback dance there. Each provider
/// checks its API key in its own documented header, so a run also proves the keys were configured and sent.
/// </summary>
public sealed class FakeProviders : IAsyncDisposable
{
    public const string KieApiKey = "fake-kie-api-key-4f1c9a7be2d0";
    public const string ApiframeApiKey = "fake-apiframe-api-key-8d2e6b0c";
    public const string NanoGptApiKey = "fake-nanogpt-api-key-1a7f3e9d";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, HandedOver> _byJob = new(StringComparer.Ordinal);
    private int _tasks;

    private FakeProviders(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    private int _wrongKeys;

    /// <summary>Submissions refused because the service sent the wrong API key (must stay zero).</summary>
    public int WrongKeys => Volatile.Read(ref _wrongKeys);

    public IReadOnlyCollection<HandedOver> Handed => (IReadOnlyCollection<HandedOver>)_byJob.Values;

    public HandedOver? ForJob(string jobId) => _byJob.TryGetValue(jobId, out var h) ? h : null;

    /// <summary>The configuration that points the service's three providers here, with their API keys.</summary>
    public Dictionary<string, string> Settings() => new()
    {
        ["Providers:Kie:BaseUrl"] = new Uri(BaseUrl, "kie/").ToString(),
        ["Providers:Kie:ApiKey"] = KieApiKey,
        ["Providers:Apiframe:BaseUrl"] = new Uri(BaseUrl, "apiframe/").ToString(),
        ["Providers:Apiframe:ApiKey"] = ApiframeApiKey,
        ["Providers:NanoGpt:BaseUrl"] = new Uri(BaseUrl, "nanogpt/").ToString(),
        ["Providers:NanoGpt:ApiKey"] = NanoGptApiKey,
    };

    public static async Task<FakeProviders> StartAsync()
    {
        var port = PostgresServer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        var app = builder.Build();
        var fake = new FakeProviders(app, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")));

        app.MapPost("/kie/api/v1/mj/generateVideoExtend", async (HttpRequest r) =>
        {
            if (r.Headers.Authorization.ToString() != "Bearer " + KieApiKey) return fake.Refuse();
            var body = await JsonDocument.ParseAsync(r.Body);
            var taskId = fake.Record("kie", body.RootElement.GetProperty("callBackUrl").GetString()!, null);
            return Results.Json(new { code = 200, msg = "success", data = new { taskId } });
        });
        app.MapPost("/apiframe/imagine-video-extend", async (HttpRequest r) =>
        {
            if (r.Headers.Authorization.ToString() != ApiframeApiKey) return fake.Refuse();
            var body = await JsonDocument.ParseAsync(r.Body);
            var taskId = fake.Record("apiframe", body.RootElement.GetProperty("webhook_url").GetString()!,
                body.RootElement.GetProperty("webhook_secret").GetString());
            return Results.Json(new { task_id = taskId });
        });
        app.MapPost("/nanogpt/api/generate-video/extend", (HttpRequest r) => fake.NanoGpt(r));
        app.MapPost("/nanogpt/api/generate-video", (HttpRequest r) => fake.NanoGpt(r));
        await app.StartAsync();
        return fake;
    }

    private IResult NanoGpt(HttpRequest r)
    {
        if (r.Headers["x-api-key"].ToString() != NanoGptApiKey) return Refuse();
        // No callback URL: NanoGPT is polled. The run id is all the service keeps.
        return Results.Json(new { runId = $"nano-{Interlocked.Increment(ref _tasks)}-{Guid.NewGuid():N}" });
    }

    private IResult Refuse()
    {
        Interlocked.Increment(ref _wrongKeys);
        return Results.Json(new { code = 401, msg = "bad key" }, statusCode: 401);
    }

    private string Record(string provider, string callbackUrl, string? secret)
    {
        var taskId = $"{provider}-{Interlocked.Increment(ref _tasks)}-{Guid.NewGuid():N}";
        // .../v1/callbacks/{provider}/{jobId}/{token}
        var segments = new Uri(callbackUrl).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        _byJob[segments[^2]] = new HandedOver(provider, taskId, segments[^2], segments[^1], callbackUrl, secret);
        return taskId;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
