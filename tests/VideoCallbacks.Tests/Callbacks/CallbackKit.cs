using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Simulator;
using VideoCallbacks.Tests.Infrastructure;

namespace VideoCallbacks.Tests.Callbacks;

/// <summary>Provider callback fixtures: JSON files under Callbacks/Fixtures with TASK_ID (and other) placeholders.</summary>
internal static class Fixture
{
    public static string Load(string name, string taskId = "task-0001", params (string Placeholder, string Value)[] replacements)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Callbacks", "Fixtures", name));
        foreach (var (placeholder, value) in replacements) text = text.Replace(placeholder, value, StringComparison.Ordinal);
        return text.Replace("TASK_ID", taskId, StringComparison.Ordinal);
    }

    public static JsonElement Json(string name, string taskId = "task-0001", params (string Placeholder, string Value)[] replacements)
    {
        using var doc = JsonDocument.Parse(Load(name, taskId, replacements));
        return doc.RootElement.Clone();
    }
}

/// <summary>What the service handed a provider for one job: where and how to call it back.</summary>
internal sealed record Hook(string JobId, string Provider, string? ProviderTaskId, string CallbackUrl, string? Secret, string SourceTaskId)
{
    /// <summary>The per-job token, the last segment of the callback URL.</summary>
    public string Token => CallbackUrl[(CallbackUrl.LastIndexOf('/') + 1)..];

    /// <summary>This job's callback URL with another token (or job id) in it.</summary>
    public string UrlWith(string? jobId = null, string? token = null, string? provider = null) =>
        CallbackUrl[..CallbackUrl.IndexOf("/v1/callbacks/", StringComparison.Ordinal)]
        + $"/v1/callbacks/{provider ?? Provider}/{jobId ?? JobId}/{token ?? Token}";
}

internal static class Kit
{
    public const string KieHmacKey = "test-kie-webhook-hmac-key";

    public static async Task<JsonElement> SubmitAsync(TestApp app, string provider, string directives = "")
    {
        var source = NewSource(directives);
        var response = await StartSubmitAsync(app, provider, source);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"submit answered {(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static string NewSource(string directives = "") => $"src-{Guid.NewGuid():N}{directives}";

    public static async Task<HttpResponseMessage> StartSubmitAsync(TestApp app, string provider, string source)
    {
        object body = provider switch
        {
            ProviderNames.Kie => new { provider, sourceTaskId = source, index = 0, prompt = "a slow pan over the sea", mode = "manual", correlationId = "order-42" },
            ProviderNames.Apiframe => new { provider, sourceTaskId = source, index = 1, prompt = "a slow pan over the sea", correlationId = "order-42" },
            _ => new { provider, sourceTaskId = source, index = 2, correlationId = "order-42" },
        };
        using var client = app.Client();
        return await client.PostJsonAsync("/v1/extensions", body);
    }

    /// <summary>Submits a job and reads, from what the simulator recorded, the callback URL and secret the service sent.</summary>
    public static async Task<Hook> SubmitForHookAsync(TestApp app, string provider, string directives = "~nocallback")
    {
        var job = await SubmitAsync(app, provider, directives);
        var hook = FindHook(app, provider, job.GetProperty("jobId").GetString()!);
        return hook with { ProviderTaskId = job.GetProperty("providerTaskId").GetString() };
    }

    /// <summary>The submission the simulator recorded for a job, or null if it has not arrived yet.</summary>
    public static Hook? TryFindHook(TestApp app, string provider, Func<JsonElement, bool> match)
    {
        foreach (var request in app.Get<SimulatorState>().Requests.Where(r => r.Provider == provider && r.Method == "POST"))
        {
            using var doc = JsonDocument.Parse(request.Body);
            var body = doc.RootElement;
            var url = provider == ProviderNames.Kie ? Str(body, "callBackUrl") : Str(body, "webhook_url");
            if (url is null || !match(body)) continue;
            var source = provider == ProviderNames.Kie ? Str(body, "taskId") : Str(body, "parent_task_id");
            var jobId = url.Split('/')[^2];
            return new Hook(jobId, provider, null, url, provider == ProviderNames.Apiframe ? Str(body, "webhook_secret") : null, source ?? "");
        }
        return null;
    }

    public static Hook FindHook(TestApp app, string provider, string jobId) =>
        TryFindHook(app, provider, b => (Str(b, "callBackUrl") ?? Str(b, "webhook_url") ?? "").Contains($"/{jobId}/", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"The simulator recorded no {provider} submission for {jobId}.");

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>POSTs a crafted callback body with the given headers.</summary>
    public static async Task<HttpResponseMessage> PostCallbackAsync(TestApp app, string url, string body, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var client = app.Client(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>An Apiframe callback as Apiframe sends it: with the job's x-webhook-secret.</summary>
    public static Task<HttpResponseMessage> PostApiframeAsync(TestApp app, Hook hook, string body, string? secret = null, string? url = null) =>
        PostCallbackAsync(app, url ?? hook.CallbackUrl, body, new Dictionary<string, string> { ["x-webhook-secret"] = secret ?? hook.Secret! });

    /// <summary>A Kie callback, signed with <paramref name="key"/> when given (timestamp now + <paramref name="skew"/>).</summary>
    public static Task<HttpResponseMessage> PostKieAsync(TestApp app, Hook hook, string body, string? key = null, TimeSpan skew = default,
        string? signedTaskId = null, string? url = null)
    {
        var headers = new Dictionary<string, string>();
        if (key is not null)
        {
            var ts = (DateTimeOffset.UtcNow + skew).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            headers[CallbackVerifier.KieTimestampHeader] = ts;
            headers[CallbackVerifier.KieSignatureHeader] = CallbackVerifier.Sign(key, signedTaskId ?? hook.ProviderTaskId!, ts);
        }
        return PostCallbackAsync(app, url ?? hook.CallbackUrl, body, headers);
    }

    /// <summary>Every event in the feed (optionally only one job's), in feed order.</summary>
    public static async Task<IReadOnlyList<JsonElement>> FeedAsync(TestApp app, string? jobId = null)
    {
        using var client = app.Client();
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await (await client.GetAsync($"/v1/events?after={after}&limit=1000")).JsonAsync();
            var events = page.GetProperty("events").EnumerateArray().ToList();
            if (events.Count == 0) break;
            all.AddRange(events);
            after = page.GetProperty("next").GetInt64();
        }
        return jobId is null ? all : all.Where(e => e.GetProperty("subject").GetString() == jobId).ToList();
    }

    public static IReadOnlyList<string> Ids(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("id").GetString()!).ToList();

    public static IReadOnlyList<string> Types(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("type").GetString()!).ToList();

    public static bool IsTerminal(JsonElement e) => e.GetProperty("type").GetString() is "video.extension.completed" or "video.extension.failed";

    /// <summary>Waits until the job's feed holds a terminal event; returns the job's events.</summary>
    public static Task<IReadOnlyList<JsonElement>> TerminalAsync(TestApp app, string jobId, TimeSpan? timeout = null) =>
        HttpExtensions.EventuallyAsync(() => FeedAsync(app, jobId), events => events.Any(IsTerminal), timeout,
            $"a terminal event for {jobId}");

    public static async Task<JsonElement> JobAsync(TestApp app, string jobId)
    {
        using var client = app.Client();
        var response = await client.GetAsync($"/v1/extensions/{jobId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    public static Task<IReadOnlyList<StoredCallback>> CallbacksAsync(TestApp app, string? outcome = null, string? provider = null) =>
        app.Get<AdminStore>().ListCallbacksAsync(new CallbackFilter(outcome, provider, null, null, null, 1000), CancellationToken.None);

    public static async Task<JsonElement> AckAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"callback answered {(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static string Outcome(JsonElement ack) => ack.GetProperty("outcome").GetString()!;
}
