using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>A task a provider accepted: where and how it must call back.</summary>
public sealed record ProviderTask(string Provider, string TaskId, string JobId, string CallbackPath, string? WebhookSecret);

/// <summary>
/// Kie.ai and Apiframe as far as submissions go, on a real port in the benchmark process: each accepts a task,
/// answers its task id and records the callback URL (with its per-job token) and Apiframe's webhook secret, as the
/// real providers would. The load generator then plays the providers' callbacks for every accepted task, whether or
/// not the service lived to answer its client. Status queries are not served (404): the runs are far shorter than
/// the service's reconciliation delay, so every event comes from a callback.
/// </summary>
public sealed class FakeProviders : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ProviderTask> _tasks = new(StringComparer.Ordinal);
    private readonly Channel<ProviderTask> _accepted = Channel.CreateUnbounded<ProviderTask>();

    private FakeProviders(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url;
    }

    public string BaseUrl { get; }

    public const string ApiKey = "fake-provider-key";

    /// <summary>Tasks in the order the providers accepted them (each once, however often it was submitted).</summary>
    public ChannelReader<ProviderTask> Accepted => _accepted.Reader;

    public int TaskCount => _tasks.Count;

    /// <summary>The service's settings that point Kie.ai and Apiframe (and NanoGPT, unused) here.</summary>
    public Dictionary<string, string> ServiceSettings() => new()
    {
        ["Sandbox:Enabled"] = "false",
        ["Providers:Kie:BaseUrl"] = BaseUrl + "/",
        ["Providers:Kie:ApiKey"] = ApiKey,
        ["Providers:Apiframe:BaseUrl"] = BaseUrl + "/",
        ["Providers:Apiframe:ApiKey"] = ApiKey,
        ["Providers:NanoGpt:BaseUrl"] = BaseUrl + "/",
        ["Providers:NanoGpt:ApiKey"] = ApiKey,
    };

    public static async Task<FakeProviders> StartAsync()
    {
        var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{PostgresServer.FreePort()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        var providers = new FakeProviders(app, url);
        app.MapPost("/api/v1/mj/generateVideoExtend", async (HttpRequest request) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body);
            var task = providers.Accept("kie", doc.RootElement.GetProperty("callBackUrl").GetString()!, secret: null);
            return Results.Json(new { code = 200, msg = "success", data = new { taskId = task.TaskId } });
        });
        app.MapPost("/imagine-video-extend", async (HttpRequest request) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body);
            var task = providers.Accept("apiframe", doc.RootElement.GetProperty("webhook_url").GetString()!,
                doc.RootElement.GetProperty("webhook_secret").GetString());
            return Results.Json(new { task_id = task.TaskId });
        });
        await app.StartAsync();
        return providers;
    }

    private ProviderTask Accept(string provider, string callbackUrl, string? secret)
    {
        // /v1/callbacks/{provider}/{jobId}/{token}: the path alone, so the load balancer may send it to any instance.
        var path = new Uri(callbackUrl).AbsolutePath;
        var jobId = path.Split('/')[^2];
        // Derived from the job, so a resubmission of the same job gets the same task.
        var created = new ProviderTask(provider, $"{provider}-task-{jobId}", jobId, path, secret);
        var task = _tasks.GetOrAdd(created.TaskId, created);
        if (ReferenceEquals(task, created)) _accepted.Writer.TryWrite(task);
        return task;
    }

    public void Complete() => _accepted.Writer.TryComplete();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
