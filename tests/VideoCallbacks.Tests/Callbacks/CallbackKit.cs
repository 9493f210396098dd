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
        return JsonElement.Parse(Load(name, taskId, replacements));
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
        using var response = await StartSubmitAsync(app, provider, source);
        return await ServiceApi.ExpectAsync(response, HttpStatusCode.Accepted, $"{provider} submit");
    }

    public static string NewSource(string directives = "") => $"src-{Guid.NewGuid():N}{directives}";

    public static async Task<HttpResponseMessage> StartSubmitAsync(TestApp app, string provider, string source)
    {
        object body = provider switch
        {
            KieProvider.Name => new { provider, sourceTaskId = source, index = 0, prompt = "a slow pan over the sea", mode = "manual", correlationId = "order-42" },
            ApiframeProvider.Name => new { provider, sourceTaskId = source, index = 1, prompt = "a slow pan over the sea", correlationId = "order-42" },
            _ => new { provider, sourceTaskId = source, index = 2, correlationId = "order-42" },
        };
        return await app.Driver.PostSubmitAsync(body);
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
            var url = provider == KieProvider.Name ? Str(body, "callBackUrl") : Str(body, "webhook_url");
            if (url is null || !match(body)) continue;
            var source = provider == KieProvider.Name ? Str(body, "taskId") : Str(body, "parent_task_id");
            var jobId = url.Split('/')[^2];
            return new Hook(jobId, provider, null, url, provider == ApiframeProvider.Name ? Str(body, "webhook_secret") : null, source ?? "");
        }
        return null;
    }

    public static Hook FindHook(TestApp app, string provider, string jobId) =>
        TryFindHook(app, provider, b => (Str(b, "callBackUrl") ?? Str(b, "webhook_url") ?? "").Contains($"/{jobId}/", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"The simulator recorded no {provider} submission for {jobId}.");

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An Apiframe callback as Apiframe sends it: with the job's x-webhook-secret.</summary>
    public static Task<HttpResponseMessage> PostApiframeAsync(TestApp app, Hook hook, string body, string? secret = null, string? url = null) =>
        app.Driver.PostApiframeCallbackAsync(url ?? hook.CallbackUrl, body, secret ?? hook.Secret!);

    /// <summary>A Kie callback, signed with <paramref name="key"/> when given (timestamp now + <paramref name="skew"/>).</summary>
    public static Task<HttpResponseMessage> PostKieAsync(TestApp app, Hook hook, string body, string? key = null, TimeSpan skew = default,
        string? signedTaskId = null, string? url = null) =>
        app.Driver.PostKieCallbackAsync(url ?? hook.CallbackUrl, body, key, signedTaskId ?? hook.ProviderTaskId!, skew);

    public static IReadOnlyList<string> Ids(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("id").GetString()!).ToList();

    public static IReadOnlyList<string> Types(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("type").GetString()!).ToList();

    public static Task<IReadOnlyList<StoredCallback>> CallbacksAsync(TestApp app, string? outcome = null, string? provider = null) =>
        app.Get<AdminStore>().ListCallbacksAsync(new CallbackFilter(outcome, provider, null, null, null, 1000), CancellationToken.None);

    public static async Task<JsonElement> AckAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"callback answered {(int)response.StatusCode}: {text}");
        return JsonElement.Parse(text);
    }

    public static string Outcome(JsonElement ack) => ack.GetProperty("outcome").GetString()!;
}
