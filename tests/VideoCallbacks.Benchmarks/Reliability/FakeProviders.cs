using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>What the service handed a provider at submit time: where to call back and, for Apiframe, the webhook secret.</summary>
public sealed record HandedOver(string Provider, string TaskId, string JobId, string Token, string CallbackUrl, string? WebhookSecret)
{
    /// <summary>/v1/callbacks/{provider}/{jobId}/{token}: the path alone, so a load balancer may send it to any instance.</summary>
    public string CallbackPath => new Uri(CallbackUrl).AbsolutePath;
}

/// <summary>
/// Kie.ai, Apiframe and NanoGPT as far as submissions go, in this process, so a scenario can run the real service
/// with its sandbox off and real secrets configured, and still know every callback URL and webhook secret it handed
/// out. A minimal API rather than WireMock: each answer needs a task id and each request's callback URL and secret
/// must be recorded, which is two lines of code here and a templating/callback dance there. Each provider checks its
/// API key in its own documented header, so a run also proves the keys were configured and sent. Status queries are
/// not served (404): runs are far shorter than the service's reconciliation delay, so every event comes from a callback.
/// </summary>
public sealed class FakeProviders : IAsyncDisposable
{
    public const string KieApiKey = "fake-kie-api-key-4f1c9a7be2d0";
    public const string ApiframeApiKey = "fake-apiframe-api-key-8d2e6b0c";
    public const string NanoGptApiKey = "fake-nanogpt-api-key-1a7f3e9d";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, HandedOver> _byJob = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, HandedOver> _byTask = new(StringComparer.Ordinal);
    private readonly Channel<HandedOver> _accepted = Channel.CreateUnbounded<HandedOver>();
    private int _nanoRuns;
    private int _wrongKeys;

    private FakeProviders(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>Submissions refused because the service sent the wrong API key (must stay zero).</summary>
    public int WrongKeys => Volatile.Read(ref _wrongKeys);

    public IReadOnlyCollection<HandedOver> Handed => (IReadOnlyCollection<HandedOver>)_byJob.Values;

    public HandedOver? ForJob(string jobId) => _byJob.TryGetValue(jobId, out var h) ? h : null;

    /// <summary>Kie.ai and Apiframe tasks in the order they were accepted (each once, however often it was submitted).</summary>
    public ChannelReader<HandedOver> Accepted => _accepted.Reader;

    public int TaskCount => _byTask.Count;

    /// <summary>The configuration that points the service's three providers here, with their API keys, sandbox off.</summary>
    public Dictionary<string, string> Settings() => new()
    {
        ["Sandbox:Enabled"] = "false",
        ["Providers:Kie:BaseUrl"] = new Uri(BaseUrl, "kie/").ToString(),
        ["Providers:Kie:ApiKey"] = KieApiKey,
        ["Providers:Apiframe:BaseUrl"] = new Uri(BaseUrl, "apiframe/").ToString(),
        ["Providers:Apiframe:ApiKey"] = ApiframeApiKey,
        ["Providers:NanoGpt:BaseUrl"] = new Uri(BaseUrl, "nanogpt/").ToString(),
        ["Providers:NanoGpt:ApiKey"] = NanoGptApiKey,
    };

    public static async Task<FakeProviders> StartAsync()
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        var app = builder.Build();
        var fake = new FakeProviders(app, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")));

        app.MapPost("/kie/api/v1/mj/generateVideoExtend", async (HttpRequest r) =>
        {
            if (r.Headers.Authorization.ToString() != "Bearer " + KieApiKey) return fake.Refuse();
            using var body = await JsonDocument.ParseAsync(r.Body);
            var taskId = fake.Record("kie", body.RootElement.GetProperty("callBackUrl").GetString()!, null);
            return Results.Json(new { code = 200, msg = "success", data = new { taskId } });
        });
        app.MapPost("/apiframe/imagine-video-extend", async (HttpRequest r) =>
        {
            if (r.Headers.Authorization.ToString() != ApiframeApiKey) return fake.Refuse();
            using var body = await JsonDocument.ParseAsync(r.Body);
            var taskId = fake.Record("apiframe", body.RootElement.GetProperty("webhook_url").GetString()!,
                body.RootElement.GetProperty("webhook_secret").GetString());
            return Results.Json(new { task_id = taskId });
        });
        app.MapPost("/nanogpt/api/generate-video/extend", (HttpRequest r) => fake.NanoGpt(r));
        app.MapPost("/nanogpt/api/generate-video", (HttpRequest r) => fake.NanoGpt(r));
        await app.StartAsync();
        return fake;
    }

    /// <summary>No more tasks will be read from <see cref="Accepted"/>.</summary>
    public void Complete() => _accepted.Writer.TryComplete();

    private IResult NanoGpt(HttpRequest r)
    {
        if (r.Headers["x-api-key"].ToString() != NanoGptApiKey) return Refuse();
        // No callback URL: NanoGPT is polled. The run id is all the service keeps.
        return Results.Json(new { runId = $"nano-{Interlocked.Increment(ref _nanoRuns)}-{Guid.NewGuid():N}" });
    }

    private IResult Refuse()
    {
        Interlocked.Increment(ref _wrongKeys);
        return Results.Json(new { code = 401, msg = "bad key" }, statusCode: 401);
    }

    private string Record(string provider, string callbackUrl, string? secret)
    {
        // .../v1/callbacks/{provider}/{jobId}/{token}
        var segments = new Uri(callbackUrl).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var jobId = segments[^2];
        // Derived from the job, so a resubmission of the same job gets the same task.
        var created = new HandedOver(provider, $"{provider}-task-{jobId}", jobId, segments[^1], callbackUrl, secret);
        var task = _byTask.GetOrAdd(created.TaskId, created);
        _byJob[jobId] = task;
        if (ReferenceEquals(task, created)) _accepted.Writer.TryWrite(task);
        return task.TaskId;
    }

    public async ValueTask DisposeAsync()
    {
        _accepted.Writer.TryComplete();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
