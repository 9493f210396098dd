using System.Security.Cryptography;
using VideoCallbacks.TestBroker;
using VideoCallbacks.Testing;
using VideoCallbacks.Testing.Reliability;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// What every scenario shares: the local broker, the fake providers, the service instance(s) on one database and
/// the load, started together; then the drain and the accounting that turns it all into a <see cref="ScenarioReport"/>.
/// </summary>
public sealed class ScenarioRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopLoad = new();
    private readonly CancellationTokenSource _giveUp = new();
    private readonly IDisposable? _database;
    private Task? _load;

    private ScenarioRun(string db, LocalServiceBus broker, FakeProviders providers, Cluster cluster, string kieKey, IDisposable? database)
    {
        Db = db;
        Broker = broker;
        Providers = providers;
        Cluster = cluster;
        _database = database;
        Load = new LoadGenerator(cluster, providers, kieKey);
    }

    public string Db { get; }

    public LocalServiceBus Broker { get; }

    public FakeProviders Providers { get; }

    public Cluster Cluster { get; }

    public LoadGenerator Load { get; }

    /// <summary>Scenario-specific failures (besides losses), for the report.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>
    /// Starts broker and providers and makes the cluster's configuration; <paramref name="connectionString"/> overrides the
    /// database (e.g. on a dedicated PostgreSQL server). The instances are not started yet.
    /// </summary>
    public static async Task<ScenarioRun> CreateAsync(string db, int instances, string? connectionString = null, Action<Dictionary<string, string>>? configure = null)
    {
        SharedDatabase? database = null;
        if (connectionString is null)
        {
            database = await SharedDatabase.CreateAsync(db == "postgres" ? Testing.Db.Postgres : Testing.Db.Sqlite);
            connectionString = database.ConnectionString;
        }
        var broker = await LocalServiceBus.StartAsync();
        var providers = await FakeProviders.StartAsync();
        var kieKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var settings = providers.Settings();
        settings["Providers:Kie:WebhookHmacKey"] = kieKey;
        settings["Bus:Transport"] = "ServiceBus";
        settings["Bus:ServiceBus:ConnectionString"] = broker.ConnectionString;
        // The relay's retries only (the SDK's own are covered by PublisherTests), short try timeout for unsettled sends.
        settings["Bus:ServiceBus:MaxRetries"] = "0";
        settings["Bus:ServiceBus:TryTimeout"] = "00:00:05";
        settings["Relay:BaseDelay"] = "00:00:00.050";
        settings["Relay:MaxDelay"] = "00:00:01";
        settings["Relay:PollInterval"] = "00:00:00.050";
        // A killed instance's claims free up within one lease.
        settings["Relay:Lease"] = "00:00:05";
        // Production's 12 attempts span hours at its 10-minute MaxDelay; at this run's 1 s they would dead-letter events
        // during a one-minute broker outage, which is an operator's replay, not what the suite measures.
        settings["Relay:MaxAttempts"] = "1000";
        settings["RateLimits:PerKeyPerSecond"] = "100000";
        settings["RateLimits:PerKeyBurst"] = "100000";
        settings["HostOptions:ShutdownTimeout"] = "00:00:20";
        configure?.Invoke(settings);
        var cluster = new Cluster(db == "postgres" ? "Postgres" : "Sqlite", connectionString, settings, instances);
        return new ScenarioRun(db, broker, providers, cluster, kieKey, database);
    }

    public void StartLoad() => _load = Task.Run(() => Load.RunAsync(_stopLoad.Token, _giveUp.Token));

    /// <summary>Stops new submissions and lets every accepted task finish its callbacks, retrying for at most <paramref name="drain"/>.</summary>
    public async Task StopLoadAsync(TimeSpan drain)
    {
        await _stopLoad.CancelAsync();
        _giveUp.CancelAfter(drain);
        await _load!;
    }

    /// <summary>Waits until some callbacks were acknowledged since <paramref name="before"/> (bounded): the service is really taking load.</summary>
    public Task WaitForAcknowledgementsAsync(int before, int more = 5) =>
        Wait.UntilAsync(() => Task.FromResult(Load.AcknowledgedCallbacks), n => n >= before + more, "callbacks to be acknowledged");

    /// <summary>
    /// After the load: waits (bounded) until the outbox is fully published, then settles the accounting: feed against
    /// what was acknowledged, broker against the feed.
    /// </summary>
    public async Task<ScenarioReport> SettleAsync(string scenario, string notes, string command)
    {
        using var api = Cluster.Api();
        try
        {
            await Wait.UntilAsync(() => api.AdminEventsAsync("status=pending"), pending => pending.Count == 0, "the outbox to be published",
                TimeSpan.FromMinutes(3));
        }
        catch (WaitTimeoutException e)
        {
            Failures.Add(e.Message.Length > 300 ? e.Message[..300] + "..." : e.Message);
        }
        var failed = await api.AdminEventsAsync("status=failed");
        if (failed.Count > 0) Failures.Add($"{failed.Count} events dead-lettered by the relay: {ServiceApi.Describe(failed.Take(3))}");

        var committed = (await api.FeedAsync()).Select(e => e.GetProperty("id").GetString()!).ToList();
        var broker = new BrokerRecord(
            Broker.Messages.Select(m => m.MessageId ?? "").ToList(),
            Broker.Transfers.Where(t => t.Accepted).SelectMany(t => t.MessageIds).ToList(),
            Broker.DuplicatesDropped);
        var result = Accounting.Settle(Load.Observations, committed, broker);
        if (!result.Passed || Failures.Count > 0)
        {
            await Console.Error.WriteLineAsync($"--- {scenario} ({Db}): the service's last output{Environment.NewLine}{Cluster.OutputTail()}");
        }
        var attempts = Load.Attempts;
        var acknowledged = attempts.Count(a => a.Acknowledged);
        var outcomes = string.Join(", ", Broker.Transfers.GroupBy(t => t.Outcome).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        var answers = string.Join(", ", attempts.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "none" : g.Key)} x{g.Count()}"));
        var fullNotes = $"{notes}; {Load.Jobs} jobs, {result.ExpectedEvents} events owed; answers: {answers}; broker transfers: {outcomes}; " +
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm}Z, load {Machine.LoadAverage()}";
        return new ScenarioReport(scenario, Db, attempts.Count, acknowledged, attempts.Count - acknowledged, result.CommittedEvents,
            result.PublishedMessages, Broker.DuplicatesDropped, result.Lost, [.. Failures, .. result.Problems], fullNotes, command);
    }

    public async ValueTask DisposeAsync()
    {
        if (_load is { IsCompleted: false })
        {
            await _stopLoad.CancelAsync();
            await _giveUp.CancelAsync();
            await _load.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await Cluster.DisposeAsync();
        await Providers.DisposeAsync();
        await Broker.DisposeAsync();
        Load.Dispose();
        _database?.Dispose();
        _stopLoad.Dispose();
        _giveUp.Dispose();
    }
}

/// <summary>The machine a run happened on, for the figures.</summary>
public static class Machine
{
    /// <summary>The 1-minute load average, as <c>uptime</c> shows it.</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static string Describe()
    {
        string cpu = "?";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        }
        catch (IOException)
        {
            // Not Linux: leave it out.
        }
        return $"{Environment.ProcessorCount} cores ({cpu}), {Environment.OSVersion}, .NET {Environment.Version}";
    }
}
