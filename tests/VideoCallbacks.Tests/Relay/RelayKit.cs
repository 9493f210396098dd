using System.Text.Json.Nodes;
using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>What only the relay tests need: the service aimed at the local broker, jobs that make events, and checks of what the broker kept.</summary>
internal static class RelayKit
{
    /// <summary>
    /// How the publisher classifies each broker answer the local broker can inject (shared/servicebus-amqp.md): the
    /// failure kind, and the reason the SDK's exception names. One table for the publisher's and the relay's tests.
    /// </summary>
    public static readonly (BrokerFault Fault, PublishFailureKind Kind, string Reason)[] FaultClassification =
    [
        (BrokerFault.ServerBusy, PublishFailureKind.Transient, "ServiceBusy"),
        (BrokerFault.Timeout, PublishFailureKind.Transient, "ServiceTimeout"),
        (BrokerFault.InternalError, PublishFailureKind.Transient, "GeneralError"),
        (BrokerFault.NeverSettle, PublishFailureKind.Transient, "ServiceTimeout"),
        (BrokerFault.QuotaExceeded, PublishFailureKind.Configuration, "QuotaExceeded"),
        (BrokerFault.EntityNotFound, PublishFailureKind.Configuration, "MessagingEntityNotFound"),
        (BrokerFault.EntityDisabled, PublishFailureKind.Configuration, "MessagingEntityDisabled"),
        (BrokerFault.Unauthorized, PublishFailureKind.Configuration, "Unauthorized"),
    ];

    /// <summary><see cref="FaultClassification"/> as theory rows.</summary>
    public static TheoryData<BrokerFault, PublishFailureKind, string> AllFaults()
    {
        var rows = new TheoryData<BrokerFault, PublishFailureKind, string>();
        foreach (var (fault, kind, reason) in FaultClassification) rows.Add(fault, kind, reason);
        return rows;
    }

    /// <summary>The faults of one kind with their reasons, each on SQLite and on PostgreSQL.</summary>
    public static TheoryData<Db, BrokerFault, string> FaultsOnBothDatabases(PublishFailureKind kind)
    {
        var rows = new TheoryData<Db, BrokerFault, string>();
        foreach (var (fault, _, reason) in FaultClassification.Where(f => f.Kind == kind))
        {
            rows.Add(Db.Sqlite, fault, reason);
            rows.Add(Db.Postgres, fault, reason);
        }
        return rows;
    }

    /// <summary>
    /// Service Bus transport aimed at <paramref name="connectionString"/>, with short relay delays. Retries are the
    /// relay's alone (the SDK waits a fixed 10 s after ServerBusy); the SDK's own retry is tested in PublisherTests.
    /// The try timeout is long so a slow (loaded) broker answer is not a client timeout and a resend; tests of sends
    /// that never settle, or of ServerBusy, pass a short one.
    /// </summary>
    public static Dictionary<string, string> ServiceBusSettings(string connectionString, string tryTimeout = "00:00:30", string lease = "00:00:30") => new()
    {
        ["Bus:Transport"] = "ServiceBus",
        ["Bus:ServiceBus:ConnectionString"] = connectionString,
        ["Bus:ServiceBus:MaxRetries"] = "0",
        ["Bus:ServiceBus:TryTimeout"] = tryTimeout,
        ["Relay:BaseDelay"] = "00:00:00.050",
        ["Relay:MaxDelay"] = "00:00:00.400",
        ["Relay:PollInterval"] = "00:00:00.050",
        ["Relay:Lease"] = lease,
    };

    /// <summary><see cref="ServiceBusSettings"/> for an in-process <see cref="TestApp"/>.</summary>
    public static void UseServiceBus(this Dictionary<string, string?> settings, string connectionString)
    {
        foreach (var (key, value) in ServiceBusSettings(connectionString)) settings[key] = value;
    }

    /// <summary>
    /// For a broker told to store sends without answering (<see cref="BrokerFault.StoreWithoutAnswer"/>): sends hang
    /// (TryTimeout 2 min) until the process dies or stops, so every send is in doubt.
    /// </summary>
    public static Dictionary<string, string> HangingSendSettings(LocalServiceBus broker, string lease) =>
        ServiceBusSettings(broker.ConnectionString, tryTimeout: "00:02:00", lease: lease);

    /// <summary>
    /// Tells the broker to store what it is sent without answering (<see cref="BrokerFault.StoreWithoutAnswer"/>),
    /// starts an instance (settings from <see cref="HangingSendSettings"/>), submits jobs and waits until they
    /// finished and a send hangs: every send of this instance is in doubt.
    /// </summary>
    public static async Task<(ServiceProcess Instance, List<string> Jobs)> StartWithHangingSendAsync(
        SharedDatabase database, Dictionary<string, string> settings, LocalServiceBus broker, int kie, int apiframe)
    {
        broker.FailUntilCleared(BrokerFault.StoreWithoutAnswer);
        var instance = ServiceProcess.Start(database, settings);
        try
        {
            await instance.WaitUntilUpAsync();
            var api = instance.Driver;
            var jobs = await SubmitJobsAsync(api, kie, apiframe);
            await api.WaitForJobsAsync(jobs);
            await WaitForHangingSendAsync(broker);
            return (instance, jobs);
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
    }

    public static Task WaitForHangingSendAsync(LocalServiceBus broker) =>
        Wait.UntilAsync(
            () => Task.FromResult(broker.Transfers.Count(t => t.Outcome == "stored-unanswered")),
            n => n > 0,
            "a send stored by the broker and still unanswered");

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
    /// Submits jobs (<see cref="SubmitJobsAsync"/>), waits until every one has completed and answers them with the
    /// events committed by then: the whole feed, which is what the relay owes the topic.
    /// </summary>
    public static async Task<(List<string> Jobs, List<JsonElement> Committed)> CompleteJobsAsync(ServiceApi api, int kie, int apiframe = 0)
    {
        var jobs = await SubmitJobsAsync(api, kie, apiframe);
        await api.WaitForJobsAsync(jobs);
        return (jobs, await api.FeedAsync());
    }

    /// <summary>
    /// After an instance died or stopped mid-publish: clears the broker's faults, starts the next instance on the same
    /// database and checks it delivers everything committed (every job's completion included) exactly once, in order
    /// per job. Answers the published events as the admin API shows them.
    /// </summary>
    public static async Task<List<AdminEvent>> DeliveredByNextInstanceAsync(
        SharedDatabase database, Dictionary<string, string> settings, LocalServiceBus broker, IEnumerable<string> jobs)
    {
        broker.ClearFaults();
        await using var next = ServiceProcess.Start(database, settings);
        await next.WaitUntilUpAsync();
        var committed = await next.Driver.FeedAsync();
        Assert.All(jobs, job => Assert.Contains(committed, e => e.GetProperty("subject").GetString() == job && e.GetProperty("type").GetString() == "video.extension.completed"));

        var published = await next.Driver.WaitUntilPublishedAsync(committed.Count);
        AssertEachDeliveredOnce(broker, committed);
        AssertPerJobOrder(broker.Messages);
        return published;
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
