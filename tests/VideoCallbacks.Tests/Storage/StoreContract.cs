using Microsoft.Extensions.Time.Testing;
using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.Storage;

/// <summary>
/// Base of every feature's store contract: what its store must do, whatever the engine. Each test gets a fresh,
/// migrated database and a hand-moved clock; each contract runs once on SQLite and once on PostgreSQL.
/// </summary>
public abstract class StoreContract(ITestDatabase engine) : IAsyncLifetime
{
    protected static readonly CancellationToken Ct = CancellationToken.None;
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private Stores _stores = null!;

    protected ITestDatabase Engine { get; } = engine;

    /// <summary>Starts on a whole millisecond, as the store keeps milliseconds.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero));

    protected string ConnectionString { get; private set; } = "";

    protected StoreSettings Settings => new(Time, PublishedOnCommit: false);

    protected SqlDatabase Database => _stores.Database;
    protected JobReader Jobs => _stores.Jobs;
    protected SubmissionStore Submissions => _stores.Submissions;
    protected IngestStore Ingest => _stores.Ingest;
    protected FeedQueries Feed => _stores.Feed;
    protected OutboxStore Outbox => _stores.Outbox;
    protected CheckScheduleStore Checks => _stores.Checks;
    protected AdminStore Admin => _stores.Admin;

    /// <summary>Every store on a new database object over an existing database (not migrated).</summary>
    protected Stores Open(string connectionString) => new(Engine.Open(connectionString, Settings));

    public async Task InitializeAsync()
    {
        ConnectionString = await Engine.NewDatabaseAsync();
        _stores = Open(ConnectionString);
        await Database.MigrateAsync(Ct);
    }

    public Task DisposeAsync() => Engine.ReleaseAsync();

    protected async Task<Job> CreatePendingAsync(string provider = KieProvider.Name, string? correlationId = null)
    {
        var job = StoreData.PendingJob(Time.GetUtcNow(), provider, correlationId);
        var created = await Submissions.CreateJobAsync(job, null, Ct);
        Assert.Equal(CreateJobOutcome.Created, created.Outcome);
        return job;
    }

    protected async Task<Job> CreateAcceptedAsync(string provider = KieProvider.Name, string? correlationId = null)
    {
        var job = await CreatePendingAsync(provider, correlationId);
        return await Submissions.AcceptSubmissionAsync(job.JobId, "task-" + Guid.NewGuid().ToString("N"), Time.GetUtcNow() + TimeSpan.FromMinutes(15), Ct);
    }

    protected async Task<IngestResult> IngestOneAsync(Job job, ProviderObservation? observation, string? taskId = null)
    {
        var results = await Ingest.IngestAsync([StoreData.Item(job, taskId ?? job.ProviderTaskId, observation, Time.GetUtcNow())], Ct);
        return Assert.Single(results);
    }

    protected async Task<List<string>> EventTypesOfAsync(string jobId) =>
        (await Submissions.GetJobEventsAsync(jobId, Ct)).Select(e => e.Type).ToList();

    protected static void AssertSameJob(Job expected, Job? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.VideoUrls, actual.VideoUrls);
        Assert.Equal(expected.Videos, actual.Videos);
        Assert.Equal(expected.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        // Records compare collections by reference: compare the rest with the collections set aside.
        IReadOnlyList<string> urls = [];
        var metadata = new Dictionary<string, string>();
        IReadOnlyList<JobVideo> videos = [];
        Assert.Equal(expected with { VideoUrls = urls, Metadata = metadata, Videos = videos }, actual with { VideoUrls = urls, Metadata = metadata, Videos = videos });
    }
}
