namespace VideoCallbacks.Tests.Storage;

/// <summary>What every feature relies on from the database itself: migrations, and data that outlives the process.</summary>
public abstract class DatabaseContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Migrations_are_idempotent_and_safe_to_run_concurrently()
    {
        var connectionString = await Engine.NewDatabaseAsync();
        var first = Open(connectionString);
        var second = Open(connectionString);

        await Task.WhenAll(first.Database.MigrateAsync(Ct), second.Database.MigrateAsync(Ct));
        await Task.WhenAll(first.Database.MigrateAsync(Ct), second.Database.MigrateAsync(Ct));
        await first.Database.MigrateAsync(Ct);

        var migrations = Schema.For("BIGINT");
        Assert.Equal((long)migrations.Count,
            Convert.ToInt64(await Engine.ScalarAsync(connectionString, "SELECT COUNT(*) FROM schema_migrations"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((long)migrations.Max(m => m.Version),
            Convert.ToInt64(await Engine.ScalarAsync(connectionString, "SELECT MAX(version) FROM schema_migrations"), System.Globalization.CultureInfo.InvariantCulture));

        var job = StoreData.PendingJob(Time.GetUtcNow());
        Assert.Equal(CreateJobOutcome.Created, (await first.Submissions.CreateJobAsync(job, null, Ct)).Outcome);
        AssertSameJob(job, await second.Jobs.GetJobAsync(job.JobId, Ct));
        Assert.True(await second.Database.PingAsync(Ct));
    }

    [Fact]
    public async Task Data_survives_reopening_the_store()
    {
        var job = await CreateAcceptedAsync(correlationId: "order-9");
        var result = await IngestOneAsync(job, StoreData.Completed());
        await Admin.AppendAuditAsync(Time.GetUtcNow(), "admin-1", "replay", "x", 1, null, Ct);
        var claim = new IdempotencyClaim("client-1:key-persist", "hash-a");
        var keyed = StoreData.PendingJob(Time.GetUtcNow());
        await Submissions.CreateJobAsync(keyed, claim, Ct);
        var before = await Jobs.GetJobAsync(job.JobId, Ct);
        var eventsBefore = await Feed.ReadEventsAsync(0, 100, Ct);

        var reopened = Open(ConnectionString);
        await reopened.Database.MigrateAsync(Ct);

        AssertSameJob(before!, await reopened.Jobs.GetJobAsync(job.JobId, Ct));
        Assert.Equal(eventsBefore, await reopened.Feed.ReadEventsAsync(0, 100, Ct));
        Assert.Equal(CallbackOutcomes.Accepted, (await reopened.Admin.GetCallbackAsync(result.CallbackId!.Value, Ct))!.Outcome);
        Assert.Single(await reopened.Admin.ListAuditAsync(null, 10, Ct));
        var again = await reopened.Submissions.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), claim, Ct);
        Assert.Equal(CreateJobOutcome.SameRequest, again.Outcome);
        Assert.Equal(keyed.JobId, again.Job.JobId);
        // Sequences keep rising after a reopen.
        var next = await reopened.Submissions.AcceptSubmissionAsync(keyed.JobId, "task-after-reopen", null, Ct);
        var newest = Assert.Single(await reopened.Submissions.GetJobEventsAsync(next.JobId, Ct));
        Assert.True(newest.Sequence > eventsBefore[^1].Sequence);
    }
}

public sealed class SqliteDatabaseContractTests() : DatabaseContract(new SqliteTestDatabase())
{
    [Fact]
    public async Task Database_is_in_wal_mode()
    {
        var mode = await Engine.ScalarAsync(ConnectionString, "PRAGMA journal_mode");

        Assert.Equal("wal", Assert.IsType<string>(mode), ignoreCase: true);
    }
}

public sealed class PostgresDatabaseContractTests() : DatabaseContract(new PostgresTestDatabase());
