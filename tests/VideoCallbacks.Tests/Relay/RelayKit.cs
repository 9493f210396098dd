using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using VideoCallbacks.Tests.Infrastructure;
using VideoCallbacks.TestBroker;

namespace VideoCallbacks.Tests.Relay;

/// <summary>One row of <c>GET /v1/admin/events</c>.</summary>
internal sealed record AdminEventView(
    string EventId,
    long Sequence,
    string JobId,
    string Provider,
    string Type,
    string Status,
    int Attempts,
    string? LastError,
    DateTimeOffset? PublishedAt,
    DateTimeOffset? NextAttemptAt);

/// <summary>Shared moves of the relay tests: configure the service for the fake broker, make events, read them back.</summary>
internal static class RelayKit
{
    /// <summary>An upper bound for waits, generous for a loaded machine; never a timing assertion.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Service Bus transport aimed at <paramref name="connectionString"/>, with short relay delays.</summary>
    public static void UseServiceBus(this Dictionary<string, string?> settings, string connectionString)
    {
        settings["Bus:Transport"] = "ServiceBus";
        settings["Bus:ServiceBus:ConnectionString"] = connectionString;
        // Retries are the relay's alone in these tests (the SDK waits a fixed 10 s after ServerBusy);
        // the SDK's own retry is tested in PublisherTests.
        settings["Bus:ServiceBus:MaxRetries"] = "0";
        settings["Bus:ServiceBus:TryTimeout"] = "00:00:05";
        settings["Relay:BaseDelay"] = "00:00:00.050";
        settings["Relay:MaxDelay"] = "00:00:00.400";
        settings["Relay:PollInterval"] = "00:00:00.050";
        settings["Relay:Lease"] = "00:00:30";
    }

    /// <summary>Submits Kie.ai jobs (submitted + completed events) and Apiframe jobs (submitted, progress..., completed).</summary>
    public static async Task<List<string>> SubmitJobsAsync(HttpClient client, int kie, int apiframe = 0, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var jobs = new List<string>();
        for (var i = 0; i < kie + apiframe; i++)
        {
            object body = i < kie
                ? new { provider = "kie", sourceTaskId = $"src-kie-{i}", index = i % 4, mode = "auto", correlationId = $"order-{i}", metadata }
                : new { provider = "apiframe", sourceTaskId = $"src-af-{i}", index = i % 4, prompt = "the camera pulls back", correlationId = $"order-{i}", metadata };
            using var response = await client.PostJsonAsync("/v1/extensions", body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"submit answered {(int)response.StatusCode}: {text}");
            using var doc = JsonDocument.Parse(text);
            jobs.Add(doc.RootElement.GetProperty("jobId").GetString()!);
        }

        return jobs;
    }

    /// <summary>Waits until every job reached its terminal state, i.e. all its events are committed.</summary>
    public static async Task WaitForJobsToFinishAsync(HttpClient client, IEnumerable<string> jobIds)
    {
        foreach (var jobId in jobIds)
        {
            await HttpExtensions.EventuallyAsync(
                async () =>
                {
                    using var response = await client.GetAsync(new Uri($"/v1/extensions/{jobId}", UriKind.Relative));
                    return (await response.JsonAsync()).GetProperty("status").GetString();
                },
                status => status is "completed" or "failed",
                Patience,
                $"job {jobId} to finish");
        }
    }

    /// <summary>Every committed event, as the feed serves it (CloudEvents, in sequence order).</summary>
    public static async Task<List<JsonElement>> FeedAsync(HttpClient client)
    {
        var events = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            using var response = await client.GetAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"/v1/events?after={after}&limit=1000"), UriKind.Relative));
            response.EnsureSuccessStatusCode();
            var page = await response.JsonAsync();
            var batch = page.GetProperty("events").EnumerateArray().ToList();
            if (batch.Count == 0)
            {
                return events;
            }

            events.AddRange(batch);
            after = page.GetProperty("next").GetInt64();
        }
    }

    /// <summary><c>GET /v1/admin/events</c>, every page.</summary>
    public static async Task<List<AdminEventView>> AdminEventsAsync(HttpClient admin, string? status = null)
    {
        var events = new List<AdminEventView>();
        string? cursor = null;
        do
        {
            var query = "/v1/admin/events?limit=500" + (status is null ? "" : "&status=" + status) + (cursor is null ? "" : "&cursor=" + cursor);
            using var response = await admin.GetAsync(new Uri(query, UriKind.Relative));
            response.EnsureSuccessStatusCode();
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            events.AddRange(page.GetProperty("items").Deserialize<List<AdminEventView>>(Web)!);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return events;
    }

    /// <summary>Waits until the admin API shows every one of <paramref name="expected"/> events published.</summary>
    public static Task<List<AdminEventView>> WaitUntilPublishedAsync(HttpClient admin, int expected) =>
        WaitForEventsAsync(admin, all => all.Count == expected && all.All(e => e.Status == "published"), $"all {expected} events to be published");

    /// <summary>Polls the admin API until <paramref name="condition"/> holds for the whole outbox.</summary>
    public static async Task<List<AdminEventView>> WaitForEventsAsync(HttpClient admin, Func<List<AdminEventView>, bool> condition, string what)
    {
        var snapshot = await HttpExtensions.EventuallyAsync(
            async () => new Outbox(await AdminEventsAsync(admin)),
            outbox => condition(outbox.Events),
            Patience,
            what);
        return snapshot.Events;
    }

    /// <summary>
    /// Every committed event reached the topic exactly once: the messages the broker kept are the committed
    /// events, one each, and any further sends were identical re-sends dropped by duplicate detection.
    /// </summary>
    public static void AssertEachDeliveredOnce(LocalServiceBus server, IReadOnlyList<JsonElement> committed)
    {
        var committedIds = committed.Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal(committedIds.Count, committedIds.Distinct(StringComparer.Ordinal).Count());

        var kept = server.Messages;
        var keptIds = kept.Select(m => m.MessageId!).ToList();
        Assert.Equal(keptIds.Count, keptIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(committedIds.Order(StringComparer.Ordinal), keptIds.Order(StringComparer.Ordinal));

        // Every accepted send beyond the first for a MessageId is a re-send the broker dropped as a duplicate.
        var acceptedSends = server.Transfers.Where(t => t.Accepted).SelectMany(t => t.MessageIds).ToList();
        Assert.Equal(acceptedSends.Count - keptIds.Count, server.DuplicatesDropped);
        Assert.All(acceptedSends, id => Assert.Contains(id, committedIds));

        // Each kept message carries exactly the committed event.
        var byId = committed.ToDictionary(e => e.GetProperty("id").GetString()!, StringComparer.Ordinal);
        Assert.All(kept, m => AssertSameJson(byId[m.MessageId!], m.Body));
    }

    /// <summary>Per job, the broker first accepted the events in sequence order.</summary>
    public static void AssertPerJobOrder(IReadOnlyList<BrokerMessage> messages)
    {
        foreach (var job in messages.GroupBy(m => m.SessionId ?? "", StringComparer.Ordinal))
        {
            var sequences = job.Select(m => JsonDocument.Parse(m.Body).RootElement.GetProperty("sequence").GetInt64()).ToList();
            Assert.True(sequences.SequenceEqual(sequences.Order()), $"job {job.Key}: events reached the topic in the order {string.Join(", ", sequences)}");
        }
    }

    public static void AssertSameJson(JsonElement expected, string actual) =>
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(expected.GetRawText()), JsonNode.Parse(actual)),
            $"expected {expected.GetRawText()}{Environment.NewLine}but the message body is {actual}");

    /// <summary>GET /readyz as status code + body.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
        return (response.StatusCode, await response.JsonAsync());
    }

    public static string Describe(IEnumerable<AdminEventView> events) =>
        string.Join("; ", events.Select(e => $"{e.EventId} {e.Status} x{e.Attempts} {e.LastError}"));

    /// <summary>The outbox as the admin API shows it; prints itself for timeout messages.</summary>
    private sealed record Outbox(List<AdminEventView> Events)
    {
        public override string ToString() => Describe(Events);
    }
}
