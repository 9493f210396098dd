using System.Text.Json;
using System.Text.Json.Nodes;
using VideoCallbacks.TestBroker;

namespace VideoCallbacks.Tests.Relay;

/// <summary>What only the relay tests need: the service aimed at the local broker, jobs that make events, and checks of what the broker kept.</summary>
internal static class RelayKit
{
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
    public static async Task<List<string>> SubmitJobsAsync(ServiceApi api, int kie, int apiframe = 0, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var jobs = new List<string>();
        for (var i = 0; i < kie + apiframe; i++)
        {
            object body = i < kie
                ? new { provider = "kie", sourceTaskId = $"src-kie-{i}", index = i % 4, mode = "auto", correlationId = $"order-{i}", metadata }
                : new { provider = "apiframe", sourceTaskId = $"src-af-{i}", index = i % 4, prompt = "the camera pulls back", correlationId = $"order-{i}", metadata };
            jobs.Add((await api.SubmitAsync(body)).GetProperty("jobId").GetString()!);
        }

        return jobs;
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
}
