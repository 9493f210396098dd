using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Callbacks;

namespace VideoCallbacks.Testing;

/// <summary>
/// The one client the tests and tools drive the service with, over real HTTP: submit, read jobs, page the event
/// feed and the admin lists, post callbacks as a provider would, and wait (with <see cref="Wait.Default"/>) for
/// a state. Admin rows come back as the API's own records; jobs and events as raw JSON, since their exact wire
/// shape is what the tests check.
/// </summary>
public sealed class ServiceApi : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string? _apiKey;
    private readonly string _adminKey;
    private readonly List<ServiceApi> _others = [];

    public ServiceApi(Uri baseUrl, string? apiKey = TestKeys.Client, string adminKey = TestKeys.Admin)
    {
        BaseUrl = baseUrl;
        _apiKey = apiKey;
        _adminKey = adminKey;
        Http = NewClient(baseUrl, apiKey);
        Admin = NewClient(baseUrl, adminKey);
        Anonymous = NewClient(baseUrl, null);
    }

    public Uri BaseUrl { get; }

    /// <summary>Authenticated with the client API key.</summary>
    public HttpClient Http { get; }

    /// <summary>Authenticated with the admin API key.</summary>
    public HttpClient Admin { get; }

    /// <summary>No key: what a provider or a stranger sends.</summary>
    public HttpClient Anonymous { get; }

    /// <summary>The same service as another key (null: none), made once per key and disposed with this driver, so callers never dispose it.</summary>
    public ServiceApi As(string? apiKey)
    {
        if (apiKey == _apiKey) return this;
        lock (_others)
        {
            var other = _others.Find(o => o._apiKey == apiKey);
            if (other is null) _others.Add(other = new ServiceApi(BaseUrl, apiKey, _adminKey));
            return other;
        }
    }

    public static HttpClient NewClient(Uri baseUrl, string? apiKey)
    {
        var client = new HttpClient { BaseAddress = baseUrl, Timeout = Wait.Default };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    // ------------------------------------------------------------------ raw requests with the client key

    public Task<HttpResponseMessage> GetAsync(string url, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        Http.GetAsync(new Uri(url, UriKind.Relative), completion);

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        Http.SendAsync(request, completion);

    public Task<HttpResponseMessage> PostAsync(string url, HttpContent? content) => Http.PostAsync(new Uri(url, UriKind.Relative), content);

    public Task<HttpResponseMessage> DeleteAsync(string url) => Http.DeleteAsync(new Uri(url, UriKind.Relative));

    /// <summary>POSTs <paramref name="body"/> as JSON, with an <c>Idempotency-Key</c> when given.</summary>
    public Task<HttpResponseMessage> PostJsonAsync(string url, object body, string? idempotencyKey = null) =>
        Http.PostJsonAsync(url, body, idempotencyKey);

    // ------------------------------------------------------------------ submissions and jobs

    public async Task<HttpResponseMessage> PostSubmitAsync(object body, string? idempotencyKey = null)
    {
        var response = await PostJsonAsync("/v1/extensions", body, idempotencyKey);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>Submits and expects <c>202</c>; answers the job as the service returned it.</summary>
    public async Task<JsonElement> SubmitAsync(object body, string? idempotencyKey = null)
    {
        using var response = await PostSubmitAsync(body, idempotencyKey);
        return await ExpectAsync(response, HttpStatusCode.Accepted, "POST /v1/extensions");
    }

    /// <summary><c>GET /v1/extensions/{id}</c>, expecting <c>200</c>.</summary>
    public async Task<JsonElement> JobAsync(string jobId)
    {
        using var response = await Http.GetAsync(new Uri($"/v1/extensions/{jobId}", UriKind.Relative));
        return await ExpectAsync(response, HttpStatusCode.OK, $"GET /v1/extensions/{jobId}");
    }

    /// <summary>Waits until the job's status is one of <paramref name="statuses"/> (default: completed or failed).</summary>
    public Task<JsonElement> WaitForJobAsync(string jobId, params string[] statuses)
    {
        string[] wanted = statuses.Length > 0 ? statuses : ["completed", "failed"];
        return Wait.UntilAsync(() => JobAsync(jobId), j => wanted.Contains(j.GetProperty("status").GetString()),
            $"job {jobId} to be {string.Join(" or ", wanted)}");
    }

    public async Task WaitForJobsAsync(IEnumerable<string> jobIds, params string[] statuses)
    {
        foreach (var jobId in jobIds) await WaitForJobAsync(jobId, statuses);
    }

    // ------------------------------------------------------------------ event feed

    /// <summary>Every event in the feed (or one job's), in feed order, paging with <c>after</c>/<c>next</c>.</summary>
    public async Task<List<JsonElement>> FeedAsync(string? jobId = null, int limit = 1000)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            using var response = await Http.GetAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"/v1/events?after={after}&limit={limit}"), UriKind.Relative));
            var page = await ExpectAsync(response, HttpStatusCode.OK, "GET /v1/events");
            var events = page.GetProperty("events").EnumerateArray().ToList();
            if (events.Count == 0) break;
            all.AddRange(events);
            after = page.GetProperty("next").GetInt64();
        }
        return jobId is null ? all : all.Where(e => e.GetProperty("subject").GetString() == jobId).ToList();
    }

    /// <summary>Waits until the feed holds an event of <paramref name="type"/> for every job; answers the whole feed.</summary>
    public Task<List<JsonElement>> WaitForEventsAsync(IReadOnlyCollection<string> jobIds, string type) =>
        Wait.UntilAsync(() => FeedAsync(),
            events => jobIds.All(id => events.Any(e => e.GetProperty("subject").GetString() == id && e.GetProperty("type").GetString() == type)),
            $"{type} events for {string.Join(", ", jobIds)}");

    /// <summary>Waits until the job's feed holds a terminal event; answers the job's events.</summary>
    public Task<List<JsonElement>> WaitForTerminalEventAsync(string jobId) =>
        Wait.UntilAsync(() => FeedAsync(jobId), events => events.Any(IsTerminal), $"a terminal event for {jobId}");

    public static bool IsTerminal(JsonElement e) => e.GetProperty("type").GetString() is "video.extension.completed" or "video.extension.failed";

    // ------------------------------------------------------------------ admin

    public Task<List<AdminEvent>> AdminEventsAsync(string query = "", int pageSize = AdminPage, List<int>? pageSizes = null) =>
        AllPagesAsync<AdminEvent>("/v1/admin/events", query, pageSize, pageSizes);

    public Task<List<AdminCallback>> AdminCallbacksAsync(string query = "", int pageSize = AdminPage, List<int>? pageSizes = null) =>
        AllPagesAsync<AdminCallback>("/v1/admin/callbacks", query, pageSize, pageSizes);

    public Task<List<AuditEntry>> AuditAsync() => AllPagesAsync<AuditEntry>("/v1/admin/audit", "", AdminPage);

    public const int AdminPage = 500;

    /// <summary>Follows <c>nextCursor</c> to the end; fails on a repeated cursor or a page larger than asked for.</summary>
    public async Task<List<T>> AllPagesAsync<T>(string path, string query, int pageSize, List<int>? pageSizes = null)
    {
        var items = new List<T>();
        var cursors = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        while (true)
        {
            var url = $"{path}?limit={pageSize.ToString(CultureInfo.InvariantCulture)}"
                + (query.Length > 0 ? "&" + query : "")
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await Admin.GetAsync(new Uri(url, UriKind.Relative));
            var page = (await ExpectAsync(response, HttpStatusCode.OK, $"GET {url}")).Deserialize<Page<T>>(Json)!;
            if (page.Items.Count > pageSize) throw new InvalidOperationException($"GET {url} answered {page.Items.Count} items");
            pageSizes?.Add(page.Items.Count);
            items.AddRange(page.Items);
            if (page.NextCursor is null) return items;
            if (!cursors.Add(page.NextCursor)) throw new InvalidOperationException($"cursor {page.NextCursor} came back twice");
            cursor = page.NextCursor;
        }
    }

    /// <summary>Polls the admin event list until <paramref name="condition"/> holds for the whole outbox.</summary>
    public async Task<List<AdminEvent>> WaitForAdminEventsAsync(Func<List<AdminEvent>, bool> condition, string what) =>
        (await Wait.UntilAsync(async () => new Outbox(await AdminEventsAsync()), o => condition(o.Events), what)).Events;

    /// <summary>Waits until the admin API shows exactly <paramref name="expected"/> events, all published.</summary>
    public Task<List<AdminEvent>> WaitUntilPublishedAsync(int expected) =>
        WaitForAdminEventsAsync(all => all.Count == expected && all.All(e => e.Status == "published"), $"all {expected} events to be published");

    public static string Describe(IEnumerable<AdminEvent> events) =>
        string.Join("; ", events.Select(e => $"{e.EventId} {e.Status} x{e.Attempts} {e.LastError}"));

    /// <summary>The outbox as the admin API shows it; prints itself for timeout messages.</summary>
    private sealed record Outbox(List<AdminEvent> Events)
    {
        public override string ToString() => Describe(Events);
    }

    // ------------------------------------------------------------------ callbacks and health

    /// <summary>POSTs a callback body as a provider would: no API key, the given headers.</summary>
    public async Task<HttpResponseMessage> PostCallbackAsync(string url, string body, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);
        var response = await Anonymous.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>An Apiframe callback as Apiframe sends it: the job's <c>x-webhook-secret</c> (none when null).</summary>
    public Task<HttpResponseMessage> PostApiframeCallbackAsync(string url, string body, string? webhookSecret) =>
        PostCallbackAsync(url, body, webhookSecret is null ? null : new Dictionary<string, string> { ["x-webhook-secret"] = webhookSecret });

    /// <summary>
    /// A Kie.ai callback as Kie.ai sends it: signed with <paramref name="hmacKey"/> over the task id and a timestamp of
    /// now + <paramref name="skew"/> (unsigned when the key is null).
    /// </summary>
    public Task<HttpResponseMessage> PostKieCallbackAsync(string url, string body, string? hmacKey, string taskId, TimeSpan skew = default)
    {
        var headers = new Dictionary<string, string>();
        if (hmacKey is not null)
        {
            var timestamp = (DateTimeOffset.UtcNow + skew).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            headers[KieCallbacks.TimestampHeader] = timestamp;
            headers[KieCallbacks.SignatureHeader] = KieCallbacks.Sign(hmacKey, taskId, timestamp);
        }
        return PostCallbackAsync(url, body, headers);
    }

    /// <summary><c>GET /readyz</c> as status code and body.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync()
    {
        using var response = await Anonymous.GetAsync(new Uri("/readyz", UriKind.Relative));
        return (response.StatusCode, await response.JsonAsync());
    }

    // ------------------------------------------------------------------ plumbing

    /// <summary>The body as JSON if the status is <paramref name="expected"/>; otherwise fails with what came back.</summary>
    public static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}, expected {(int)expected}: {text}");
        }
        return JsonElement.Parse(text);
    }

    public void Dispose()
    {
        lock (_others) _others.ForEach(o => o.Dispose());
        Http.Dispose();
        Admin.Dispose();
        Anonymous.Dispose();
    }
}
