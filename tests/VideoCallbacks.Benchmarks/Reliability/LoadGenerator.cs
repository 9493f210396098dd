using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Testing;
using VideoCallbacks.Testing.Reliability;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>One HTTP request the load generator made and how it was answered (0: no answer at all).</summary>
public readonly record struct Attempt(DateTime StartedAt, DateTime EndedAt, int Status, bool IsCallback)
{
    public bool Acknowledged => Status is >= 200 and < 300;
}

/// <summary>
/// Genuine load: real submissions (Kie.ai and Apiframe) through <c>POST /v1/extensions</c>, then, for every task the
/// fake providers accepted, the callbacks those providers send (progress, completion or failure, now and then a
/// resend or progress after the final result), with valid tokens, Apiframe secrets and Kie HMAC signatures. Each
/// task's callbacks go one after another, each retried until answered 2xx, as providers retry; many tasks at once.
/// </summary>
public sealed class LoadGenerator : IDisposable
{
    private readonly Cluster _cluster;
    private readonly FakeProviders _providers;
    private readonly string _kieHmacKey;
    private readonly HttpClient _http;
    private readonly ConcurrentQueue<Attempt> _attempts = new();
    private readonly ConcurrentQueue<SentObservation> _observations = new();
    private int _next;
    private int _finishedTasks;
    private int _balancer;

    public LoadGenerator(Cluster cluster, FakeProviders providers, string kieHmacKey)
    {
        _cluster = cluster;
        _providers = providers;
        _kieHmacKey = kieHmacKey;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
            MaxConnectionsPerServer = 256,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Tasks in flight at once (each drives its callbacks in order).</summary>
    public int Drivers { get; init; } = 24;

    public int Submitters { get; init; } = 3;

    /// <summary>Accepted tasks not yet called back, beyond which the submitters wait.</summary>
    public int MaxBacklog { get; init; } = 48;

    public IReadOnlyCollection<Attempt> Attempts => _attempts;

    public IReadOnlyList<SentObservation> Observations => [.. _observations];

    public int Jobs => _providers.TaskCount;

    public int AcknowledgedCallbacks => _attempts.Count(a => a.IsCallback && a.Acknowledged);

    /// <summary>
    /// Submits and calls back until <paramref name="stopLoad"/> fires, then finishes every accepted task, retrying each
    /// callback until <paramref name="giveUp"/> fires (a provider gives up too; what is never acknowledged is never owed).
    /// </summary>
    public async Task RunAsync(CancellationToken stopLoad, CancellationToken giveUp)
    {
        var submitters = Enumerable.Range(0, Submitters).Select(_ => Task.Run(() => SubmitLoopAsync(stopLoad), CancellationToken.None)).ToList();
        var drivers = Enumerable.Range(0, Drivers).Select(_ => Task.Run(() => DriveLoopAsync(giveUp), CancellationToken.None)).ToList();
        await Task.WhenAll(submitters);
        _providers.Complete();
        await Task.WhenAll(drivers);
    }

    private async Task SubmitLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (_providers.TaskCount - Volatile.Read(ref _finishedTasks) >= MaxBacklog)
            {
                await Task.Delay(10, CancellationToken.None);
                continue;
            }

            var n = Interlocked.Increment(ref _next);
            object body = n % 2 == 0
                ? new { provider = "kie", sourceTaskId = $"src-{n}", index = n % 4, mode = "auto", correlationId = $"order-{n}" }
                : new { provider = "apiframe", sourceTaskId = $"src-{n}", index = n % 4, prompt = "the camera pulls back", correlationId = $"order-{n}" };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(PickBase(), "/v1/extensions")) { Content = JsonContent.Create(body) };
            request.Headers.Add("X-Api-Key", TestKeys.Client);
            var (status, text) = await SendAsync(request, isCallback: false);
            if (status == (int)HttpStatusCode.Accepted)
            {
                using var doc = JsonDocument.Parse(text);
                var jobId = doc.RootElement.GetProperty("jobId").GetString()!;
                _observations.Enqueue(new SentObservation(jobId, $"{jobId}:submitted", true));
            }
            else
            {
                // Down or refusing: wait a little before the next, as a client backs off.
                await Task.Delay(Random.Shared.Next(100, 300), CancellationToken.None);
            }
        }
    }

    private async Task DriveLoopAsync(CancellationToken giveUp)
    {
        await foreach (var task in _providers.Accepted.ReadAllAsync(CancellationToken.None))
        {
            // The provider took the task, so the service may have announced the job even if its client never heard back.
            _observations.Enqueue(new SentObservation(task.JobId, $"{task.JobId}:submitted", false));
            var random = new Random(task.TaskId.GetHashCode(StringComparison.Ordinal));
            foreach (var callback in Plan(task, random))
            {
                var acknowledged = await DeliverAsync(task, callback, giveUp);
                _observations.Enqueue(new SentObservation(task.JobId, callback.ExpectedEventId, acknowledged));
            }
            Interlocked.Increment(ref _finishedTasks);
        }
    }

    /// <summary>One callback the provider sends and the event it must have once acknowledged (see <see cref="SentObservation"/>).</summary>
    private sealed record PlannedCallback(string Body, string ExpectedEventId);

    private static List<PlannedCallback> Plan(HandedOver task, Random random)
    {
        var job = task.JobId;
        var calls = new List<PlannedCallback>();
        if (task.Provider == "apiframe")
        {
            var progress = Enumerable.Range(0, random.Next(0, 4)).Select(_ => random.Next(1, 96)).Distinct().Order().ToList();
            foreach (var p in progress)
            {
                calls.Add(new($$"""{"task_id":"{{task.TaskId}}","task_type":"imagine-video-extend","status":"processing","percentage":"{{p}}"}""", $"{job}:progress:{p}"));
            }
            var done = new PlannedCallback(
                $$"""{"task_id":"{{task.TaskId}}","task_type":"imagine-video-extend","video_urls":["https://cdn.example/{{job}}/1.mp4","https://cdn.example/{{job}}/2.mp4"]}""",
                $"{job}:completed");
            calls.Add(done);
            // Apiframe posts updates that may arrive after the final document: no news, so its event is the completion.
            if (random.NextDouble() < 0.1) calls.Add(calls[0] with { ExpectedEventId = $"{job}:completed" });
            if (random.NextDouble() < 0.15) calls.Add(done);
        }
        else
        {
            var failed = random.NextDouble() < 0.15;
            var done = failed
                ? new PlannedCallback($$$"""{"code":501,"msg":"generation failed","data":{"taskId":"{{{task.TaskId}}}","promptJson":"{\"prompt\":\"x\"}","resultUrls":[]}}""", $"{job}:failed")
                : new PlannedCallback($$$"""{"code":200,"msg":"success","data":{"taskId":"{{{task.TaskId}}}","promptJson":"{\"prompt\":\"x\"}","resultUrls":["https://cdn.example/{{{job}}}/0.mp4"]}}""", $"{job}:completed");
            calls.Add(done);
            // Kie says the same task may be called back more than once.
            if (random.NextDouble() < 0.15) calls.Add(done);
        }
        return calls;
    }

    private async Task<bool> DeliverAsync(HandedOver task, PlannedCallback callback, CancellationToken giveUp)
    {
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(PickBase(), task.CallbackPath))
            {
                Content = new StringContent(callback.Body, Encoding.UTF8, "application/json"),
            };
            if (task.WebhookSecret is { } secret) request.Headers.Add(ApiframeCallbacks.SecretHeader, secret);
            if (task.Provider == "kie")
            {
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                request.Headers.Add(KieCallbacks.TimestampHeader, timestamp);
                request.Headers.Add(KieCallbacks.SignatureHeader, KieCallbacks.Sign(_kieHmacKey, task.TaskId, timestamp));
            }
            var (status, _) = await SendAsync(request, isCallback: true);
            if (status is >= 200 and < 300) return true;
            if (giveUp.IsCancellationRequested) return false;
            await Task.Delay(Random.Shared.Next(100, 300), CancellationToken.None);
        }
    }

    private async Task<(int Status, string Body)> SendAsync(HttpRequestMessage request, bool isCallback)
    {
        var started = DateTime.UtcNow;
        int status;
        var body = "";
        try
        {
            using var response = await _http.SendAsync(request);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            status = 0;
        }
        _attempts.Enqueue(new Attempt(started, DateTime.UtcNow, status, isCallback));
        return (status, body);
    }

    /// <summary>An imaginary load balancer: round robin over the instances it believes are up.</summary>
    private Uri PickBase() => _cluster.PickBaseUrl(Interlocked.Increment(ref _balancer));

    public void Dispose() => _http.Dispose();
}
