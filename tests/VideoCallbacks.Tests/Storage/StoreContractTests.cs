using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Extensions;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Tests.Infrastructure;

namespace VideoCallbacks.Tests.Storage;

/// <summary>
/// What every <see cref="IStore"/> must do, whatever the engine. Each test gets a fresh, migrated
/// database and a hand-moved clock; the subclasses only say how to make a database and open a store on it.
/// </summary>
public abstract class StoreContract : IAsyncLifetime
{
    protected static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>Starts on a whole millisecond, as the store keeps milliseconds.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero));

    protected IStore Store { get; private set; } = null!;

    protected string ConnectionString { get; private set; } = "";

    protected StoreSettings Settings => new(Time, PublishedOnCommit: false);

    /// <summary>A fresh, empty database; answers its connection string.</summary>
    protected abstract Task<string> NewDatabaseAsync();

    /// <summary>A new store instance on an existing database (not migrated).</summary>
    protected abstract IStore Open(string connectionString);

    /// <summary>Runs a scalar query straight against the database, bypassing the store.</summary>
    protected abstract Task<object?> ScalarAsync(string connectionString, string sql);

    protected abstract Task ReleaseAsync();

    public async Task InitializeAsync()
    {
        ConnectionString = await NewDatabaseAsync();
        Store = Open(ConnectionString);
        await Store.MigrateAsync(Ct);
    }

    public Task DisposeAsync() => ReleaseAsync();

    // ------------------------------------------------------------ helpers

    private async Task<Job> CreatePendingAsync(string provider = ProviderNames.Kie, string? correlationId = null)
    {
        var job = StoreData.PendingJob(Time.GetUtcNow(), provider, correlationId);
        var created = await Store.CreateJobAsync(job, null, Ct);
        Assert.Equal(CreateJobOutcome.Created, created.Outcome);
        return job;
    }

    private async Task<Job> CreateAcceptedAsync(string provider = ProviderNames.Kie, string? correlationId = null)
    {
        var job = await CreatePendingAsync(provider, correlationId);
        return await Store.AcceptSubmissionAsync(job.JobId, "task-" + Guid.NewGuid().ToString("N"), Time.GetUtcNow() + TimeSpan.FromMinutes(15), Ct);
    }

    private async Task<IngestResult> IngestOneAsync(Job job, ProviderObservation? observation, string? taskId = null)
    {
        var results = await Store.IngestAsync([StoreData.Item(job, taskId ?? job.ProviderTaskId, observation, Time.GetUtcNow())], Ct);
        return Assert.Single(results);
    }

    private async Task<List<string>> EventTypesOfAsync(string jobId) =>
        (await Store.GetJobEventsAsync(jobId, Ct)).Select(e => e.Type).ToList();

    private static void AssertSameJob(Job expected, Job? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.VideoUrls, actual.VideoUrls);
        Assert.Equal(expected.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        // Records compare collections by reference: compare the rest with the collections set aside.
        IReadOnlyList<string> urls = [];
        var metadata = new Dictionary<string, string>();
        Assert.Equal(expected with { VideoUrls = urls, Metadata = metadata }, actual with { VideoUrls = urls, Metadata = metadata });
    }

    // ------------------------------------------------------------ migrations

    [Fact]
    public async Task Migrations_are_idempotent_and_safe_to_run_concurrently()
    {
        var connectionString = await NewDatabaseAsync();
        var first = Open(connectionString);
        var second = Open(connectionString);

        await Task.WhenAll(first.MigrateAsync(Ct), second.MigrateAsync(Ct));
        await Task.WhenAll(first.MigrateAsync(Ct), second.MigrateAsync(Ct));
        await first.MigrateAsync(Ct);

        var migrations = Schema.For("BIGINT");
        Assert.Equal((long)migrations.Count,
            Convert.ToInt64(await ScalarAsync(connectionString, "SELECT COUNT(*) FROM schema_migrations"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((long)migrations.Max(m => m.Version),
            Convert.ToInt64(await ScalarAsync(connectionString, "SELECT MAX(version) FROM schema_migrations"), System.Globalization.CultureInfo.InvariantCulture));

        var job = StoreData.PendingJob(Time.GetUtcNow());
        Assert.Equal(CreateJobOutcome.Created, (await first.CreateJobAsync(job, null, Ct)).Outcome);
        AssertSameJob(job, await second.GetJobAsync(job.JobId, Ct));
        Assert.True(await second.PingAsync(Ct));
    }

    // ------------------------------------------------------------ jobs

    [Fact]
    public async Task Created_job_round_trips_every_field()
    {
        var now = Time.GetUtcNow();
        var job = new Job
        {
            JobId = StoreData.NewJobId(),
            Provider = ProviderNames.Apiframe,
            ProviderTaskId = "task-8f1c",
            Status = JobStatuses.Processing,
            Submission = SubmissionStates.Accepted,
            Progress = 40,
            VideoUrls = ["https://cdn.example.com/1.mp4", "https://cdn.example.com/2.mp4?sig=a%20b"],
            Error = new JobError("provider_failed", "Le modèle a refusé: \"quote\" ✓"),
            CorrelationId = "order-123",
            Metadata = new Dictionary<string, string> { ["customer"] = "ünïcødé", ["empty"] = "", ["json"] = "{\"a\":[1]}" },
            SourceTaskId = "ee603959-1111-2222-3333-444455556666",
            Index = 3,
            RequestJson = """{"provider":"apiframe","prompt":"more"}""",
            TokenHash = new string('b', 64),
            SecretHash = new string('c', 64),
            CreatedAt = now - TimeSpan.FromMinutes(5),
            UpdatedAt = now,
            NextCheckAt = now + TimeSpan.FromMinutes(15),
            CheckAttempts = 2,
        };

        var created = await Store.CreateJobAsync(job, null, Ct);

        Assert.Equal(CreateJobOutcome.Created, created.Outcome);
        AssertSameJob(job, created.Job);
        AssertSameJob(job, await Store.GetJobAsync(job.JobId, Ct));
    }

    [Fact]
    public async Task Job_without_optional_fields_round_trips()
    {
        var job = new Job
        {
            JobId = StoreData.NewJobId(),
            Provider = ProviderNames.NanoGpt,
            Status = JobStatuses.Submitted,
            Submission = SubmissionStates.Pending,
            RequestJson = "{}",
            TokenHash = new string('d', 64),
            CreatedAt = Time.GetUtcNow(),
            UpdatedAt = Time.GetUtcNow(),
        };

        await Store.CreateJobAsync(job, null, Ct);

        var loaded = await Store.GetJobAsync(job.JobId, Ct);
        AssertSameJob(job, loaded);
        Assert.Null(loaded!.Error);
        Assert.Null(loaded.Index);
        Assert.Null(loaded.NextCheckAt);
        Assert.Empty(loaded.Metadata);
        Assert.Empty(loaded.VideoUrls);
    }

    [Fact]
    public async Task Unknown_job_is_null()
    {
        Assert.Null(await Store.GetJobAsync("job_does_not_exist", Ct));
        Assert.Empty(await Store.GetJobEventsAsync("job_does_not_exist", Ct));
    }

    // ------------------------------------------------------------ idempotency

    [Fact]
    public async Task Same_claim_and_hash_returns_the_original_job()
    {
        var claim = new IdempotencyClaim("client-1:key-1", "hash-a");
        var original = StoreData.PendingJob(Time.GetUtcNow());
        Assert.Equal(CreateJobOutcome.Created, (await Store.CreateJobAsync(original, claim, Ct)).Outcome);

        var retry = StoreData.PendingJob(Time.GetUtcNow());
        var again = await Store.CreateJobAsync(retry, claim, Ct);

        Assert.Equal(CreateJobOutcome.SameRequest, again.Outcome);
        AssertSameJob(original, again.Job);
        Assert.Null(await Store.GetJobAsync(retry.JobId, Ct));
    }

    [Fact]
    public async Task Same_claim_with_another_hash_is_a_different_request()
    {
        var original = StoreData.PendingJob(Time.GetUtcNow());
        await Store.CreateJobAsync(original, new IdempotencyClaim("client-1:key-1", "hash-a"), Ct);

        var other = StoreData.PendingJob(Time.GetUtcNow());
        var result = await Store.CreateJobAsync(other, new IdempotencyClaim("client-1:key-1", "hash-b"), Ct);

        Assert.Equal(CreateJobOutcome.DifferentRequest, result.Outcome);
        Assert.Equal(original.JobId, result.Job.JobId);
        Assert.Null(await Store.GetJobAsync(other.JobId, Ct));
    }

    [Fact]
    public async Task Claims_with_different_scope_keys_do_not_collide()
    {
        var first = await Store.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), new IdempotencyClaim("client-1:key-1", "hash-a"), Ct);
        var second = await Store.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), new IdempotencyClaim("client-2:key-1", "hash-a"), Ct);

        Assert.Equal(CreateJobOutcome.Created, first.Outcome);
        Assert.Equal(CreateJobOutcome.Created, second.Outcome);
        Assert.NotEqual(first.Job.JobId, second.Job.JobId);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_claim_make_exactly_one_job()
    {
        var claim = new IdempotencyClaim("client-1:race", "hash-a");
        var jobs = Enumerable.Range(0, 10).Select(_ => StoreData.PendingJob(Time.GetUtcNow())).ToList();

        var results = await Task.WhenAll(jobs.Select(j => Task.Run(() => Store.CreateJobAsync(j, claim, Ct))));

        var created = Assert.Single(results, r => r.Outcome == CreateJobOutcome.Created);
        Assert.Equal(9, results.Count(r => r.Outcome == CreateJobOutcome.SameRequest));
        Assert.All(results, r => Assert.Equal(created.Job.JobId, r.Job.JobId));
        var stored = 0;
        foreach (var job in jobs)
        {
            if (await Store.GetJobAsync(job.JobId, Ct) is not null) stored++;
        }
        Assert.Equal(1, stored);
    }

    // ------------------------------------------------------------ submission outcome

    [Fact]
    public async Task Accepting_a_submission_binds_the_task_and_writes_one_submitted_event_even_twice()
    {
        var job = await CreatePendingAsync(correlationId: "order-7");
        Assert.Empty(await Store.GetJobEventsAsync(job.JobId, Ct));
        var nextCheck = Time.GetUtcNow() + TimeSpan.FromMinutes(15);

        var accepted = await Store.AcceptSubmissionAsync(job.JobId, "task-1", nextCheck, Ct);
        var again = await Store.AcceptSubmissionAsync(job.JobId, "task-1", nextCheck, Ct);

        Assert.Equal("task-1", accepted.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, accepted.Submission);
        Assert.Equal(JobStatuses.Submitted, accepted.Status);
        Assert.Equal(nextCheck, accepted.NextCheckAt);
        Assert.Equal("task-1", again.ProviderTaskId);
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal("task-1", stored!.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, stored.Submission);

        var e = Assert.Single(await Store.GetJobEventsAsync(job.JobId, Ct));
        Assert.Equal(EventTypes.Submitted, e.Type);
        Assert.Equal($"{job.JobId}:submitted", e.EventId);
        Assert.Equal(PublishStatuses.Pending, e.PublishStatus);
        Assert.Equal("order-7", e.CorrelationId);
        using var data = JsonDocument.Parse(e.DataJson);
        Assert.Equal(job.JobId, data.RootElement.GetProperty("jobId").GetString());
        Assert.Equal("task-1", data.RootElement.GetProperty("providerTaskId").GetString());
        Assert.Equal(JobStatuses.Submitted, data.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Refused_submission_with_release_frees_the_idempotency_key()
    {
        var claim = new IdempotencyClaim("client-1:key-r", "hash-a");
        var job = StoreData.PendingJob(Time.GetUtcNow());
        await Store.CreateJobAsync(job, claim, Ct);

        var failed = await Store.FailSubmissionAsync(job.JobId, SubmissionStates.Rejected, new JobError("provider_rejected", "bad prompt"),
            claim.ScopeKey, Time.GetUtcNow() + TimeSpan.FromHours(1), Ct);

        Assert.Equal(JobStatuses.Failed, failed.Status);
        Assert.Equal(SubmissionStates.Rejected, failed.Submission);
        Assert.Equal(new JobError("provider_rejected", "bad prompt"), failed.Error);
        Assert.Null(failed.NextCheckAt);
        AssertSameJob(failed, await Store.GetJobAsync(job.JobId, Ct));

        var retry = StoreData.PendingJob(Time.GetUtcNow());
        var result = await Store.CreateJobAsync(retry, claim, Ct);
        Assert.Equal(CreateJobOutcome.Created, result.Outcome);
        Assert.Equal(retry.JobId, result.Job.JobId);
    }

    [Fact]
    public async Task Unknown_submission_outcome_keeps_the_idempotency_key()
    {
        var claim = new IdempotencyClaim("client-1:key-u", "hash-a");
        var job = StoreData.PendingJob(Time.GetUtcNow());
        await Store.CreateJobAsync(job, claim, Ct);
        var nextCheck = Time.GetUtcNow() + TimeSpan.FromHours(1);

        var failed = await Store.FailSubmissionAsync(job.JobId, SubmissionStates.Unknown, new JobError("submission_unknown", "timeout"), null, nextCheck, Ct);

        Assert.Equal(JobStatuses.Submitted, failed.Status);
        Assert.Equal(SubmissionStates.Unknown, failed.Submission);
        Assert.Equal(nextCheck, failed.NextCheckAt);
        var again = await Store.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), claim, Ct);
        Assert.Equal(CreateJobOutcome.SameRequest, again.Outcome);
        Assert.Equal(job.JobId, again.Job.JobId);
    }

    [Fact]
    public async Task Failing_a_submission_a_callback_already_accepted_changes_nothing()
    {
        var claim = new IdempotencyClaim("client-1:key-late", "hash-a");
        var job = StoreData.PendingJob(Time.GetUtcNow());
        await Store.CreateJobAsync(job, claim, Ct);
        var accepted = await Store.AcceptSubmissionAsync(job.JobId, "task-1", Time.GetUtcNow() + TimeSpan.FromMinutes(15), Ct);

        var result = await Store.FailSubmissionAsync(job.JobId, SubmissionStates.Rejected, new JobError("provider_rejected", "x"), claim.ScopeKey, null, Ct);

        AssertSameJob(accepted, result);
        AssertSameJob(accepted, await Store.GetJobAsync(job.JobId, Ct));
        Assert.Equal(CreateJobOutcome.SameRequest, (await Store.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), claim, Ct)).Outcome);
    }

    // ------------------------------------------------------------ ingest

    [Fact]
    public async Task Completed_observation_writes_one_completed_event()
    {
        var job = await CreateAcceptedAsync();
        Time.Advance(TimeSpan.FromSeconds(5));

        var result = await IngestOneAsync(job, StoreData.Completed("https://cdn.example.com/a.mp4", "https://cdn.example.com/b.mp4"));

        Assert.Equal(CallbackOutcomes.Accepted, result.Outcome);
        Assert.Equal($"{job.JobId}:completed", result.EventId);
        Assert.NotNull(result.CallbackId);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal(JobStatuses.Completed, stored!.Status);
        Assert.Equal(100, stored.Progress);
        Assert.Equal(["https://cdn.example.com/a.mp4", "https://cdn.example.com/b.mp4"], stored.VideoUrls);
        Assert.Null(stored.NextCheckAt);
        Assert.Equal(Time.GetUtcNow(), stored.UpdatedAt);

        var callback = await Store.GetCallbackAsync(result.CallbackId!.Value, Ct);
        Assert.NotNull(callback);
        Assert.Equal(CallbackOutcomes.Accepted, callback.Outcome);
        Assert.Equal(job.JobId, callback.JobId);
        Assert.Equal(result.EventId, callback.EventId);
        Assert.Equal(job.Provider, callback.Provider);
        Assert.Equal("""{"code":200}""", callback.Body);
        Assert.Equal(Time.GetUtcNow(), callback.ReceivedAt);

        var e = await Store.GetEventAsync(result.EventId!, Ct);
        Assert.NotNull(e);
        var cloudEvent = e.ToCloudEvent();
        Assert.Equal("video.extension.completed", cloudEvent.GetProperty("type").GetString());
        Assert.Equal(e.Sequence, cloudEvent.GetProperty("sequence").GetInt64());
        Assert.Equal("completed", cloudEvent.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(2, cloudEvent.GetProperty("data").GetProperty("videoUrls").GetArrayLength());
    }

    [Fact]
    public async Task Ten_identical_ingests_give_one_event_and_nine_duplicates()
    {
        var job = await CreateAcceptedAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => IngestOneAsync(job, StoreData.Completed()))));

        Assert.Single(results, r => r.Outcome == CallbackOutcomes.Accepted);
        Assert.Equal(9, results.Count(r => r.Outcome == CallbackOutcomes.Duplicate));
        Assert.All(results, r => Assert.NotNull(r.CallbackId));
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var callbacks = await Store.ListCallbacksAsync(new CallbackFilter(null, null, null, null, null, 100), Ct);
        Assert.Equal(10, callbacks.Count(c => c.JobId == job.JobId));
    }

    [Fact]
    public async Task Repeats_inside_one_batch_are_duplicates()
    {
        var job = await CreateAcceptedAsync();
        var at = Time.GetUtcNow();

        var results = await Store.IngestAsync(
        [
            StoreData.Item(job, job.ProviderTaskId, ProviderObservation.Processing(40), at),
            StoreData.Item(job, job.ProviderTaskId, ProviderObservation.Processing(40), at),
            StoreData.Item(job, job.ProviderTaskId, StoreData.Completed(), at),
            StoreData.Item(job, job.ProviderTaskId, StoreData.Completed(), at),
        ], Ct);

        Assert.Equal([CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate, CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate],
            results.Select(r => r.Outcome));
        var events = await Store.GetJobEventsAsync(job.JobId, Ct);
        Assert.Equal([$"{job.JobId}:submitted", $"{job.JobId}:progress:40", $"{job.JobId}:completed"], events.Select(e => e.EventId));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
    }

    [Fact]
    public async Task Progress_never_goes_backwards()
    {
        var job = await CreateAcceptedAsync();

        Assert.Equal(CallbackOutcomes.Accepted, (await IngestOneAsync(job, ProviderObservation.Processing(50))).Outcome);
        Assert.Equal(CallbackOutcomes.Duplicate, (await IngestOneAsync(job, ProviderObservation.Processing(30))).Outcome);
        Assert.Equal(CallbackOutcomes.Duplicate, (await IngestOneAsync(job, ProviderObservation.Processing(50))).Outcome);
        Assert.Equal(CallbackOutcomes.Accepted, (await IngestOneAsync(job, ProviderObservation.Processing(70))).Outcome);

        Assert.Equal([EventTypes.Submitted, EventTypes.Progress, EventTypes.Progress], await EventTypesOfAsync(job.JobId));
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal(70, stored!.Progress);
        Assert.Equal(JobStatuses.Processing, stored.Status);
    }

    [Fact]
    public async Task Progress_after_completion_gives_no_event()
    {
        var job = await CreateAcceptedAsync();
        await IngestOneAsync(job, StoreData.Completed());

        var late = await IngestOneAsync(job, ProviderObservation.Processing(60));

        Assert.Equal(CallbackOutcomes.Duplicate, late.Outcome);
        Assert.Null(late.EventId);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal(JobStatuses.Completed, stored!.Status);
        Assert.Equal(100, stored.Progress);
    }

    [Fact]
    public async Task Failure_after_completion_is_recorded_as_an_anomaly()
    {
        var job = await CreateAcceptedAsync();
        await IngestOneAsync(job, StoreData.Completed());

        var conflicting = await IngestOneAsync(job, ProviderObservation.Failed("generation_failed", "boom"));

        Assert.Equal(CallbackOutcomes.Duplicate, conflicting.Outcome);
        Assert.NotNull(conflicting.Reason);
        Assert.StartsWith("anomaly", conflicting.Reason, StringComparison.Ordinal);
        Assert.Null(conflicting.EventId);
        var callback = await Store.GetCallbackAsync(conflicting.CallbackId!.Value, Ct);
        Assert.StartsWith("anomaly", callback!.Reason, StringComparison.Ordinal);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal(JobStatuses.Completed, stored!.Status);
        Assert.Null(stored.Error);
    }

    [Fact]
    public async Task Failed_observation_writes_one_failed_event_with_the_error()
    {
        var job = await CreateAcceptedAsync();

        var result = await IngestOneAsync(job, ProviderObservation.Failed("generation_failed", "The provider said no."));

        Assert.Equal(CallbackOutcomes.Accepted, result.Outcome);
        Assert.Equal($"{job.JobId}:failed", result.EventId);
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal(JobStatuses.Failed, stored!.Status);
        Assert.Equal(new JobError("generation_failed", "The provider said no."), stored.Error);
        var e = await Store.GetEventAsync(result.EventId!, Ct);
        using var data = JsonDocument.Parse(e!.DataJson);
        Assert.Equal("The provider said no.", data.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Ingest_for_an_unknown_job_is_unmatched()
    {
        var job = await CreateAcceptedAsync();
        var ghost = job with { JobId = "job_nobody" };

        var unknown = await IngestOneAsync(ghost, StoreData.Completed());
        var wrongProvider = Assert.Single(await Store.IngestAsync(
            [StoreData.Item(job, job.ProviderTaskId, StoreData.Completed(), Time.GetUtcNow(), provider: ProviderNames.Apiframe)], Ct));

        Assert.Equal(CallbackOutcomes.Unmatched, unknown.Outcome);
        Assert.Equal(CallbackOutcomes.Unmatched, wrongProvider.Outcome);
        Assert.Null((await Store.GetCallbackAsync(unknown.CallbackId!.Value, Ct))!.JobId);
        Assert.Equal([EventTypes.Submitted], await EventTypesOfAsync(job.JobId));
        Assert.Equal(JobStatuses.Submitted, (await Store.GetJobAsync(job.JobId, Ct))!.Status);
    }

    [Fact]
    public async Task Ingest_with_another_task_id_is_rejected()
    {
        var job = await CreateAcceptedAsync();

        var result = await IngestOneAsync(job, StoreData.Completed(), taskId: "task-someone-else");

        Assert.Equal(CallbackOutcomes.Rejected, result.Outcome);
        Assert.Null(result.EventId);
        var callback = await Store.GetCallbackAsync(result.CallbackId!.Value, Ct);
        Assert.Equal(CallbackOutcomes.Rejected, callback!.Outcome);
        Assert.Equal(job.JobId, callback.JobId);
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal(job.ProviderTaskId, stored!.ProviderTaskId);
        Assert.Equal(JobStatuses.Submitted, stored.Status);
        Assert.Equal([EventTypes.Submitted], await EventTypesOfAsync(job.JobId));
    }

    [Fact]
    public async Task Ingest_on_a_job_pending_submission_binds_the_task_and_emits_submitted_then_the_observation()
    {
        var job = await CreatePendingAsync();

        var result = await IngestOneAsync(job, StoreData.Completed(), taskId: "task-early");

        Assert.Equal(CallbackOutcomes.Accepted, result.Outcome);
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal("task-early", stored!.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, stored.Submission);
        Assert.Equal(JobStatuses.Completed, stored.Status);
        var events = await Store.GetJobEventsAsync(job.JobId, Ct);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], events.Select(e => e.Type));
        Assert.True(events[0].Sequence < events[1].Sequence);

        // The submit answer arriving afterwards changes nothing and mints nothing.
        var late = await Store.AcceptSubmissionAsync(job.JobId, "task-early", Time.GetUtcNow(), Ct);
        Assert.Equal(JobStatuses.Completed, late.Status);
        Assert.Equal(2, (await Store.GetJobEventsAsync(job.JobId, Ct)).Count);
    }

    [Fact]
    public async Task Callback_racing_the_submit_answer_gives_submitted_then_completed_once()
    {
        var job = await CreatePendingAsync();

        var accept = Task.Run(() => Store.AcceptSubmissionAsync(job.JobId, "task-race", Time.GetUtcNow() + TimeSpan.FromMinutes(15), Ct));
        var ingest = Task.Run(() => IngestOneAsync(job, StoreData.Completed(), taskId: "task-race"));
        await Task.WhenAll(accept, ingest);

        Assert.Equal(CallbackOutcomes.Accepted, (await ingest).Outcome);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var stored = await Store.GetJobAsync(job.JobId, Ct);
        Assert.Equal("task-race", stored!.ProviderTaskId);
        Assert.Equal(JobStatuses.Completed, stored.Status);
        Assert.Equal(SubmissionStates.Accepted, stored.Submission);
    }

    [Fact]
    public async Task Ingest_without_an_observation_is_stored_as_failed()
    {
        var job = await CreateAcceptedAsync();
        var item = new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, null, StoreData.Raw(Time.GetUtcNow(), "not json"), Problem: "body is not JSON");

        var result = Assert.Single(await Store.IngestAsync([item], Ct));

        Assert.Equal(CallbackOutcomes.Failed, result.Outcome);
        Assert.Equal("body is not JSON", result.Reason);
        Assert.Null(result.EventId);
        var callback = await Store.GetCallbackAsync(result.CallbackId!.Value, Ct);
        Assert.Equal(CallbackOutcomes.Failed, callback!.Outcome);
        Assert.Equal("not json", callback.Body);
        Assert.Equal([EventTypes.Submitted], await EventTypesOfAsync(job.JobId));
        var failed = await Store.ListCallbacksAsync(new CallbackFilter(CallbackOutcomes.Failed, null, null, null, null, 10), Ct);
        Assert.Equal(result.CallbackId, Assert.Single(failed).Id);
    }

    [Fact]
    public async Task Reprocessing_a_stored_callback_updates_it_in_place()
    {
        var job = await CreateAcceptedAsync();
        var first = Assert.Single(await Store.IngestAsync(
            [new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, null, StoreData.Raw(Time.GetUtcNow()), Problem: "not understood")], Ct));

        var again = Assert.Single(await Store.IngestAsync(
            [new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, StoreData.Completed(), null, ReprocessCallbackId: first.CallbackId)], Ct));

        Assert.Equal(first.CallbackId, again.CallbackId);
        Assert.Equal(CallbackOutcomes.Accepted, again.Outcome);
        var callback = await Store.GetCallbackAsync(first.CallbackId!.Value, Ct);
        Assert.Equal(CallbackOutcomes.Accepted, callback!.Outcome);
        Assert.Equal($"{job.JobId}:completed", callback.EventId);
        Assert.Single(await Store.ListCallbacksAsync(new CallbackFilter(null, null, null, null, null, 10), Ct));
    }

    [Fact]
    public async Task Rejected_callbacks_are_recorded_for_operators()
    {
        var id = await Store.RecordRejectedCallbackAsync(
            new RejectedCallback(ProviderNames.Apiframe, "job_x", CallbackOutcomes.Rejected, "bad secret", StoreData.Raw(Time.GetUtcNow(), "{\"task_id\":\"t\"}")), Ct);

        var callback = await Store.GetCallbackAsync(id, Ct);

        Assert.NotNull(callback);
        Assert.Equal(new StoredCallback(id, ProviderNames.Apiframe, "job_x", Time.GetUtcNow(), CallbackOutcomes.Rejected, "bad secret", null,
            """{"content-type":"application/json"}""", "{\"task_id\":\"t\"}"), callback);
        Assert.Null(await Store.GetCallbackAsync(id + 1000, Ct));
    }

    // ------------------------------------------------------------ feed

    [Fact]
    public async Task Read_events_returns_events_in_sequence_order_with_paging()
    {
        Assert.Equal(0, await Store.GetLastSequenceAsync(Ct));
        var a = await CreateAcceptedAsync();
        var b = await CreateAcceptedAsync(ProviderNames.Apiframe);
        await IngestOneAsync(a, ProviderObservation.Processing(10));
        await IngestOneAsync(b, StoreData.Completed());
        await IngestOneAsync(a, StoreData.Completed());

        var all = await Store.ReadEventsAsync(0, 100, Ct);

        Assert.Equal(5, all.Count);
        Assert.Equal(
            [$"{a.JobId}:submitted", $"{b.JobId}:submitted", $"{a.JobId}:progress:10", $"{b.JobId}:completed", $"{a.JobId}:completed"],
            all.Select(e => e.EventId));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(all[^1].Sequence, await Store.GetLastSequenceAsync(Ct));

        var page = await Store.ReadEventsAsync(all[0].Sequence, 2, Ct);
        Assert.Equal(all.Skip(1).Take(2).Select(e => e.Sequence), page.Select(e => e.Sequence));
        var rest = await Store.ReadEventsAsync(page[^1].Sequence, 100, Ct);
        Assert.Equal(all.Skip(3).Select(e => e.Sequence), rest.Select(e => e.Sequence));
        Assert.Empty(await Store.ReadEventsAsync(all[^1].Sequence, 100, Ct));
    }

    // ------------------------------------------------------------ outbox

    [Fact]
    public async Task Claim_returns_pending_events_in_order()
    {
        var a = await CreateAcceptedAsync();
        var b = await CreateAcceptedAsync();
        await IngestOneAsync(a, ProviderObservation.Processing(20));
        var expected = (await Store.ReadEventsAsync(0, 100, Ct)).Select(e => e.Sequence).ToList();

        var claimed = await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 100, Ct);

        Assert.Equal(expected, claimed.Select(e => e.Sequence));
        Assert.All(claimed, e => Assert.Equal(PublishStatuses.Pending, e.PublishStatus));
        Assert.Contains(claimed, e => e.JobId == b.JobId);
    }

    [Fact]
    public async Task Claim_honours_the_limit()
    {
        for (var i = 0; i < 3; i++) await CreateAcceptedAsync();
        var all = await Store.ReadEventsAsync(0, 100, Ct);

        var first = await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 2, Ct);
        var second = await Store.ClaimPendingEventsAsync("relay-2", Time.GetUtcNow(), Lease, 2, Ct);

        Assert.Equal(all.Take(2).Select(e => e.Sequence), first.Select(e => e.Sequence));
        Assert.Equal([all[2].Sequence], second.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Claimed_event_is_not_claimed_again_until_its_lease_expires()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();

        var first = await Store.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct);
        var during = await Store.ClaimPendingEventsAsync("relay-2", start + TimeSpan.FromSeconds(10), Lease, 10, Ct);
        var after = await Store.ClaimPendingEventsAsync("relay-2", start + Lease + TimeSpan.FromSeconds(1), Lease, 10, Ct);

        var e = Assert.Single(first);
        Assert.Empty(during);
        Assert.Equal(e.Sequence, Assert.Single(after).Sequence);
    }

    [Fact]
    public async Task Published_events_are_not_claimed_again()
    {
        await CreateAcceptedAsync();
        var claimed = await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct);

        await Store.MarkPublishedAsync(claimed.Select(e => e.Sequence).ToList(), Time.GetUtcNow(), Ct);

        Assert.Empty(await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow() + TimeSpan.FromHours(1), Lease, 10, Ct));
        var stored = Assert.Single(await Store.ReadEventsAsync(0, 10, Ct));
        Assert.Equal(PublishStatuses.Published, stored.PublishStatus);
        Assert.Equal(Time.GetUtcNow(), stored.PublishedAt);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal(new OutboxStats(0, 0, null), await Store.GetOutboxStatsAsync(Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Concurrent_claims_never_hand_one_event_to_two_owners()
    {
        for (var i = 0; i < 12; i++) await CreateAcceptedAsync();
        var all = (await Store.ReadEventsAsync(0, 100, Ct)).Select(e => e.Sequence).ToList();

        var claims = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            Task.Run(() => Store.ClaimPendingEventsAsync($"relay-{i}", Time.GetUtcNow(), Lease, 3, Ct))));
        var sweep = await Store.ClaimPendingEventsAsync("relay-sweep", Time.GetUtcNow(), Lease, 100, Ct);

        var claimed = claims.SelectMany(c => c).Concat(sweep).Select(e => e.Sequence).ToList();
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        Assert.Equal(all, claimed.Order());
    }

    [Fact]
    public async Task Publish_failure_with_a_next_time_keeps_the_event_pending_until_then()
    {
        await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var e = Assert.Single(await Store.ClaimPendingEventsAsync("relay-1", start, Lease, 10, Ct));
        var retryAt = start + TimeSpan.FromMinutes(1);

        await Store.MarkPublishFailedAsync(e.Sequence, "bus said 503", retryAt, Ct);

        var stored = Assert.Single(await Store.ReadEventsAsync(0, 10, Ct));
        Assert.Equal(PublishStatuses.Pending, stored.PublishStatus);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal("bus said 503", stored.LastError);
        Assert.Equal(retryAt, stored.NextAttemptAt);
        Assert.Empty(await Store.ClaimPendingEventsAsync("relay-1", start + TimeSpan.FromSeconds(59), Lease, 10, Ct));
        Assert.Equal(e.Sequence, Assert.Single(await Store.ClaimPendingEventsAsync("relay-2", retryAt, Lease, 10, Ct)).Sequence);
    }

    [Fact]
    public async Task Publish_failure_without_a_next_time_marks_the_event_failed()
    {
        await CreateAcceptedAsync();
        var e = Assert.Single(await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct));

        await Store.MarkPublishFailedAsync(e.Sequence, "gave up", null, Ct);

        var stored = await Store.GetEventAsync(e.EventId, Ct);
        Assert.Equal(PublishStatuses.Failed, stored!.PublishStatus);
        Assert.Equal("gave up", stored.LastError);
        Assert.Empty(await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow() + TimeSpan.FromDays(1), Lease, 10, Ct));
        Assert.Equal(new OutboxStats(0, 1, null), await Store.GetOutboxStatsAsync(Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Later_event_of_a_job_waits_while_an_earlier_one_is_in_backoff()
    {
        var job = await CreateAcceptedAsync();
        await IngestOneAsync(job, ProviderObservation.Processing(30));
        var other = await CreateAcceptedAsync();
        var start = Time.GetUtcNow();
        var submitted = Assert.Single(await Store.ClaimPendingEventsAsync("relay-1", start, Lease, 1, Ct));
        Assert.Equal($"{job.JobId}:submitted", submitted.EventId);

        // While the first event is leased, the job's next event stays behind it; other jobs go ahead.
        var whileLeased = await Store.ClaimPendingEventsAsync("relay-2", start, Lease, 10, Ct);
        Assert.Equal([$"{other.JobId}:submitted"], whileLeased.Select(e => e.EventId));
        await Store.MarkPublishedAsync([whileLeased[0].Sequence], start, Ct);

        await Store.MarkPublishFailedAsync(submitted.Sequence, "transient", start + TimeSpan.FromMinutes(5), Ct);
        Assert.Empty(await Store.ClaimPendingEventsAsync("relay-2", start + TimeSpan.FromMinutes(1), Lease, 10, Ct));

        var inOrder = await Store.ClaimPendingEventsAsync("relay-2", start + TimeSpan.FromMinutes(5), Lease, 10, Ct);
        Assert.Equal([$"{job.JobId}:submitted", $"{job.JobId}:progress:30"], inOrder.Select(e => e.EventId));
    }

    [Fact]
    public async Task Replay_puts_failed_events_back_to_pending_and_published_ones_only_on_request()
    {
        var failedJob = await CreateAcceptedAsync();
        var publishedJob = await CreateAcceptedAsync();
        var events = await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct);
        var failed = events.Single(e => e.JobId == failedJob.JobId);
        var published = events.Single(e => e.JobId == publishedJob.JobId);
        await Store.MarkPublishFailedAsync(failed.Sequence, "gave up", null, Ct);
        await Store.MarkPublishedAsync([published.Sequence], Time.GetUtcNow(), Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await Store.ReplayEventsAsync([failed.Sequence, published.Sequence], includePublished: false, Time.GetUtcNow(), Ct));

        var replayed = await Store.GetEventAsync(failed.EventId, Ct);
        Assert.Equal(PublishStatuses.Pending, replayed!.PublishStatus);
        Assert.Equal(0, replayed.Attempts);
        Assert.Null(replayed.LastError);
        Assert.Equal(PublishStatuses.Published, (await Store.GetEventAsync(published.EventId, Ct))!.PublishStatus);
        Assert.Equal([failed.Sequence], (await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct)).Select(e => e.Sequence));

        Assert.Equal(1, await Store.ReplayEventsAsync([published.Sequence], includePublished: true, Time.GetUtcNow(), Ct));
        Assert.Equal(PublishStatuses.Pending, (await Store.GetEventAsync(published.EventId, Ct))!.PublishStatus);
        Assert.Equal([published.Sequence], (await Store.ClaimPendingEventsAsync("relay-1", Time.GetUtcNow(), Lease, 10, Ct)).Select(e => e.Sequence));
        Assert.Equal(0, await Store.ReplayEventsAsync([], includePublished: true, Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Replay_leaves_pending_events_alone()
    {
        await CreateAcceptedAsync();
        var e = Assert.Single(await Store.ReadEventsAsync(0, 10, Ct));

        Assert.Equal(0, await Store.ReplayEventsAsync([e.Sequence], includePublished: true, Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task Outbox_stats_count_pending_and_failed_events()
    {
        await CreateAcceptedAsync();
        var firstTime = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromSeconds(10));
        await CreateAcceptedAsync();
        Time.Advance(TimeSpan.FromSeconds(10));
        await CreateAcceptedAsync();
        var all = await Store.ReadEventsAsync(0, 10, Ct);
        await Store.MarkPublishFailedAsync(all[0].Sequence, "gave up", null, Ct);

        var stats = await Store.GetOutboxStatsAsync(Time.GetUtcNow(), Ct);

        Assert.Equal(new OutboxStats(2, 1, firstTime + TimeSpan.FromSeconds(10)), stats);
    }

    // ------------------------------------------------------------ provider checks

    [Fact]
    public async Task Due_checks_are_leased_and_rescheduled()
    {
        var start = Time.GetUtcNow();
        var due = await CreatePendingAsync();
        await Store.RescheduleCheckAsync(due.JobId, start - TimeSpan.FromSeconds(1), 0, Ct);
        var later = await CreatePendingAsync();
        await Store.RescheduleCheckAsync(later.JobId, start + TimeSpan.FromMinutes(10), 0, Ct);
        var never = await CreatePendingAsync();
        await Store.RescheduleCheckAsync(never.JobId, null, 0, Ct);

        var claimed = await Store.ClaimDueChecksAsync(start, Lease, 10, Ct);
        Assert.Equal([due.JobId], claimed.Select(j => j.JobId));
        Assert.Empty(await Store.ClaimDueChecksAsync(start + TimeSpan.FromSeconds(10), Lease, 10, Ct));
        Assert.Equal([due.JobId], (await Store.ClaimDueChecksAsync(start + Lease + TimeSpan.FromSeconds(1), Lease, 10, Ct)).Select(j => j.JobId));

        await Store.RescheduleCheckAsync(due.JobId, start + TimeSpan.FromMinutes(5), 3, Ct);

        var rescheduled = await Store.GetJobAsync(due.JobId, Ct);
        Assert.Equal(start + TimeSpan.FromMinutes(5), rescheduled!.NextCheckAt);
        Assert.Equal(3, rescheduled.CheckAttempts);
        Assert.Empty(await Store.ClaimDueChecksAsync(start + TimeSpan.FromMinutes(2), Lease, 10, Ct));
        Assert.Equal([due.JobId], (await Store.ClaimDueChecksAsync(start + TimeSpan.FromMinutes(6), Lease, 10, Ct)).Select(j => j.JobId));
        // Rescheduling releases the lease: due again straight away once the time comes.
        await Store.RescheduleCheckAsync(due.JobId, start + TimeSpan.FromMinutes(7), 4, Ct);
        Assert.Equal(new[] { due.JobId, later.JobId }.Order(StringComparer.Ordinal),
            (await Store.ClaimDueChecksAsync(start + TimeSpan.FromMinutes(11), Lease, 10, Ct)).Select(j => j.JobId).Order(StringComparer.Ordinal));
        var far = await Store.ClaimDueChecksAsync(start + TimeSpan.FromDays(30), Lease, 10, Ct);
        Assert.DoesNotContain(far, j => j.JobId == never.JobId);
    }

    [Fact]
    public async Task Due_checks_honour_the_limit_in_due_order()
    {
        var start = Time.GetUtcNow();
        var jobs = new List<Job>();
        for (var i = 0; i < 3; i++)
        {
            var job = await CreatePendingAsync();
            await Store.RescheduleCheckAsync(job.JobId, start - TimeSpan.FromMinutes(3 - i), 0, Ct);
            jobs.Add(job);
        }

        var first = await Store.ClaimDueChecksAsync(start, Lease, 2, Ct);
        var second = await Store.ClaimDueChecksAsync(start, Lease, 2, Ct);

        // The most overdue go first; the order inside one claim is not part of the contract.
        Assert.Equal(jobs.Take(2).Select(j => j.JobId).Order(StringComparer.Ordinal), first.Select(j => j.JobId).Order(StringComparer.Ordinal));
        Assert.Equal([jobs[2].JobId], second.Select(j => j.JobId));
    }

    [Fact]
    public async Task Rescheduling_a_terminal_job_clears_its_check()
    {
        var job = await CreateAcceptedAsync();
        await IngestOneAsync(job, StoreData.Completed());

        await Store.RescheduleCheckAsync(job.JobId, Time.GetUtcNow() - TimeSpan.FromMinutes(1), 1, Ct);

        Assert.Null((await Store.GetJobAsync(job.JobId, Ct))!.NextCheckAt);
        Assert.Empty(await Store.ClaimDueChecksAsync(Time.GetUtcNow() + TimeSpan.FromDays(2), Lease, 10, Ct));
    }

    // ------------------------------------------------------------ operators

    [Fact]
    public async Task List_events_filters_and_pages()
    {
        var t0 = Time.GetUtcNow();
        var kie = await CreateAcceptedAsync(ProviderNames.Kie);
        Time.Advance(TimeSpan.FromMinutes(1));
        var apiframe = await CreateAcceptedAsync(ProviderNames.Apiframe);
        Time.Advance(TimeSpan.FromMinutes(1));
        await IngestOneAsync(kie, StoreData.Completed());
        Time.Advance(TimeSpan.FromMinutes(1));
        await IngestOneAsync(apiframe, ProviderObservation.Failed("x", "y"));
        var all = await Store.ReadEventsAsync(0, 100, Ct);
        await Store.MarkPublishFailedAsync(all[1].Sequence, "gave up", null, Ct);

        static EventFilter Filter(string? status = null, string? provider = null, string? type = null,
            DateTimeOffset? since = null, DateTimeOffset? until = null, long? after = null, int limit = 100) =>
            new(status, provider, type, since, until, after, limit);

        Assert.Equal(all.Select(e => e.EventId), (await Store.ListEventsAsync(Filter(), Ct)).Select(e => e.EventId));
        Assert.Equal([all[1].EventId], (await Store.ListEventsAsync(Filter(status: PublishStatuses.Failed), Ct)).Select(e => e.EventId));
        Assert.Equal(3, (await Store.ListEventsAsync(Filter(status: PublishStatuses.Pending), Ct)).Count);
        Assert.Equal([$"{apiframe.JobId}:submitted", $"{apiframe.JobId}:failed"],
            (await Store.ListEventsAsync(Filter(provider: ProviderNames.Apiframe), Ct)).Select(e => e.EventId));
        Assert.Equal([$"{kie.JobId}:completed"], (await Store.ListEventsAsync(Filter(type: EventTypes.Completed), Ct)).Select(e => e.EventId));
        Assert.Equal([$"{apiframe.JobId}:failed"],
            (await Store.ListEventsAsync(Filter(provider: ProviderNames.Apiframe, type: EventTypes.Failed, status: PublishStatuses.Pending), Ct)).Select(e => e.EventId));
        Assert.Equal([$"{apiframe.JobId}:submitted", $"{kie.JobId}:completed"],
            (await Store.ListEventsAsync(Filter(since: t0 + TimeSpan.FromMinutes(1), until: t0 + TimeSpan.FromMinutes(3)), Ct)).Select(e => e.EventId));
        Assert.Empty(await Store.ListEventsAsync(Filter(provider: ProviderNames.NanoGpt), Ct));

        var page1 = await Store.ListEventsAsync(Filter(limit: 3), Ct);
        var page2 = await Store.ListEventsAsync(Filter(limit: 3, after: page1[^1].Sequence), Ct);
        Assert.Equal(all.Take(3).Select(e => e.Sequence), page1.Select(e => e.Sequence));
        Assert.Equal([all[3].Sequence], page2.Select(e => e.Sequence));
    }

    [Fact]
    public async Task List_callbacks_filters_and_pages()
    {
        var t0 = Time.GetUtcNow();
        var kie = await CreateAcceptedAsync(ProviderNames.Kie);
        var apiframe = await CreateAcceptedAsync(ProviderNames.Apiframe);
        var accepted = await IngestOneAsync(kie, ProviderObservation.Processing(10));
        Time.Advance(TimeSpan.FromMinutes(1));
        var duplicate = await IngestOneAsync(kie, ProviderObservation.Processing(10));
        var rejected = await IngestOneAsync(apiframe, StoreData.Completed(), taskId: "not-the-task");
        Time.Advance(TimeSpan.FromMinutes(1));
        var unmatched = await IngestOneAsync(apiframe with { JobId = "job_nobody" }, StoreData.Completed());
        var verification = await Store.RecordRejectedCallbackAsync(
            new RejectedCallback(ProviderNames.Kie, kie.JobId, CallbackOutcomes.Rejected, "bad signature", StoreData.Raw(Time.GetUtcNow())), Ct);
        var ids = new[] { accepted.CallbackId!.Value, duplicate.CallbackId!.Value, rejected.CallbackId!.Value, unmatched.CallbackId!.Value, verification };

        static CallbackFilter Filter(string? outcome = null, string? provider = null, DateTimeOffset? since = null, DateTimeOffset? until = null,
            long? after = null, int limit = 100) => new(outcome, provider, since, until, after, limit);

        Assert.Equal(ids, (await Store.ListCallbacksAsync(Filter(), Ct)).Select(c => c.Id));
        Assert.Equal([rejected.CallbackId!.Value, verification], (await Store.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Rejected), Ct)).Select(c => c.Id));
        Assert.Equal([unmatched.CallbackId!.Value], (await Store.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Unmatched), Ct)).Select(c => c.Id));
        Assert.Equal([rejected.CallbackId!.Value, unmatched.CallbackId!.Value],
            (await Store.ListCallbacksAsync(Filter(provider: ProviderNames.Apiframe), Ct)).Select(c => c.Id));
        Assert.Equal([verification], (await Store.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Rejected, provider: ProviderNames.Kie), Ct)).Select(c => c.Id));
        Assert.Equal([duplicate.CallbackId!.Value, rejected.CallbackId!.Value],
            (await Store.ListCallbacksAsync(Filter(since: t0 + TimeSpan.FromMinutes(1), until: t0 + TimeSpan.FromMinutes(2)), Ct)).Select(c => c.Id));
        Assert.Empty(await Store.ListCallbacksAsync(Filter(outcome: CallbackOutcomes.Failed), Ct));

        var page1 = await Store.ListCallbacksAsync(Filter(limit: 2), Ct);
        var page2 = await Store.ListCallbacksAsync(Filter(limit: 2, after: page1[^1].Id), Ct);
        var page3 = await Store.ListCallbacksAsync(Filter(limit: 2, after: page2[^1].Id), Ct);
        Assert.Equal(ids, page1.Concat(page2).Concat(page3).Select(c => c.Id));
        Assert.Single(page3);
    }

    [Fact]
    public async Task Audit_entries_append_and_page()
    {
        var t0 = Time.GetUtcNow();
        await Store.AppendAuditAsync(t0, "admin-1", "replay", "event:job_1:failed", 1, null, Ct);
        await Store.AppendAuditAsync(t0 + TimeSpan.FromSeconds(1), "admin-2", "replay-bulk", "status=failed", 7, """{"provider":"kie"}""", Ct);
        await Store.AppendAuditAsync(t0 + TimeSpan.FromSeconds(2), "admin-1", "reprocess", "callback:12", 1, null, Ct);

        var first = await Store.ListAuditAsync(null, 2, Ct);
        var rest = await Store.ListAuditAsync(first[^1].Id, 10, Ct);

        Assert.Equal(2, first.Count);
        Assert.Equal(new AuditEntry(first[0].Id, t0, "admin-1", "replay", "event:job_1:failed", 1, null), first[0]);
        Assert.Equal(new AuditEntry(first[1].Id, t0 + TimeSpan.FromSeconds(1), "admin-2", "replay-bulk", "status=failed", 7, """{"provider":"kie"}"""), first[1]);
        Assert.True(first[0].Id < first[1].Id);
        var last = Assert.Single(rest);
        Assert.Equal("reprocess", last.Action);
        Assert.True(last.Id > first[1].Id);
        Assert.Empty(await Store.ListAuditAsync(last.Id, 10, Ct));
    }

    [Fact]
    public async Task Prune_deletes_old_published_events_and_callbacks_but_keeps_failed_ones()
    {
        var t0 = Time.GetUtcNow();
        var published = await CreateAcceptedAsync();
        var failed = await CreateAcceptedAsync();
        var pending = await CreateAcceptedAsync();
        var events = await Store.ReadEventsAsync(0, 10, Ct);
        await Store.MarkPublishedAsync([events.Single(e => e.JobId == published.JobId).Sequence], t0, Ct);
        await Store.MarkPublishFailedAsync(events.Single(e => e.JobId == failed.JobId).Sequence, "gave up", null, Ct);
        var oldAccepted = await IngestOneAsync(published, ProviderObservation.Processing(10));
        var oldUnmatched = await IngestOneAsync(published with { JobId = "job_nobody" }, StoreData.Completed());
        var oldFailed = Assert.Single(await Store.IngestAsync(
            [new IngestItem(published.Provider, published.JobId, published.ProviderTaskId, null, StoreData.Raw(t0), Problem: "garbled")], Ct));
        Time.Advance(TimeSpan.FromDays(10));
        var recent = await IngestOneAsync(pending, ProviderObservation.Processing(10));
        var recentEvents = (await Store.ReadEventsAsync(0, 100, Ct)).Where(e => e.JobId == pending.JobId).Select(e => e.Sequence).ToList();
        await Store.MarkPublishedAsync(recentEvents, Time.GetUtcNow(), Ct);

        var (prunedEvents, prunedCallbacks) = await Store.PruneAsync(t0 + TimeSpan.FromDays(1), 100, Ct);

        Assert.Equal(1, prunedEvents);
        Assert.Equal(2, prunedCallbacks);
        var left = await Store.ReadEventsAsync(0, 100, Ct);
        Assert.DoesNotContain(left, e => e.JobId == published.JobId && e.Type == EventTypes.Submitted);
        Assert.Contains(left, e => e.JobId == failed.JobId && e.PublishStatus == PublishStatuses.Failed);
        Assert.Equal(recentEvents, left.Where(e => e.JobId == pending.JobId).Select(e => e.Sequence));
        Assert.Null(await Store.GetCallbackAsync(oldAccepted.CallbackId!.Value, Ct));
        Assert.Null(await Store.GetCallbackAsync(oldUnmatched.CallbackId!.Value, Ct));
        Assert.NotNull(await Store.GetCallbackAsync(oldFailed.CallbackId!.Value, Ct));
        Assert.NotNull(await Store.GetCallbackAsync(recent.CallbackId!.Value, Ct));
        // The progress event of the published job was never published, so it stays too.
        Assert.Contains(left, e => e.JobId == published.JobId && e.Type == EventTypes.Progress);
        Assert.Equal((0, 0), await Store.PruneAsync(t0 + TimeSpan.FromDays(1), 100, Ct));
    }

    [Fact]
    public async Task Prune_honours_the_limit()
    {
        var t0 = Time.GetUtcNow();
        for (var i = 0; i < 3; i++) await CreateAcceptedAsync();
        var sequences = (await Store.ReadEventsAsync(0, 10, Ct)).Select(e => e.Sequence).ToList();
        await Store.MarkPublishedAsync(sequences, t0, Ct);

        Assert.Equal((2, 0), await Store.PruneAsync(t0 + TimeSpan.FromSeconds(1), 2, Ct));
        Assert.Equal([sequences[2]], (await Store.ReadEventsAsync(0, 10, Ct)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Data_survives_reopening_the_store()
    {
        var job = await CreateAcceptedAsync(correlationId: "order-9");
        var result = await IngestOneAsync(job, StoreData.Completed());
        await Store.AppendAuditAsync(Time.GetUtcNow(), "admin-1", "replay", "x", 1, null, Ct);
        var claim = new IdempotencyClaim("client-1:key-persist", "hash-a");
        var keyed = StoreData.PendingJob(Time.GetUtcNow());
        await Store.CreateJobAsync(keyed, claim, Ct);
        var before = await Store.GetJobAsync(job.JobId, Ct);
        var eventsBefore = await Store.ReadEventsAsync(0, 100, Ct);

        var reopened = Open(ConnectionString);
        await reopened.MigrateAsync(Ct);

        AssertSameJob(before!, await reopened.GetJobAsync(job.JobId, Ct));
        Assert.Equal(eventsBefore, await reopened.ReadEventsAsync(0, 100, Ct));
        Assert.Equal(CallbackOutcomes.Accepted, (await reopened.GetCallbackAsync(result.CallbackId!.Value, Ct))!.Outcome);
        Assert.Single(await reopened.ListAuditAsync(null, 10, Ct));
        var again = await reopened.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), claim, Ct);
        Assert.Equal(CreateJobOutcome.SameRequest, again.Outcome);
        Assert.Equal(keyed.JobId, again.Job.JobId);
        // Sequences keep rising after a reopen.
        var next = await reopened.AcceptSubmissionAsync(keyed.JobId, "task-after-reopen", null, Ct);
        var newest = Assert.Single(await reopened.GetJobEventsAsync(next.JobId, Ct));
        Assert.True(newest.Sequence > eventsBefore[^1].Sequence);
    }
}

public sealed class SqliteStoreContractTests : StoreContract
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vc-store-tests", Guid.NewGuid().ToString("N"));
    private int _files;

    protected override Task<string> NewDatabaseAsync()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, $"x{Interlocked.Increment(ref _files)}.db");
        return Task.FromResult($"Data Source={file}");
    }

    protected override IStore Open(string connectionString) => new SqliteStore(connectionString, Settings);

    protected override async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var c = new SqliteConnection(connectionString);
        await c.OpenAsync();
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    protected override Task ReleaseAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a pooled connection of a parallel test may still hold the file for a moment.
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Database_is_in_wal_mode()
    {
        var mode = await ScalarAsync(ConnectionString, "PRAGMA journal_mode");

        Assert.Equal("wal", Assert.IsType<string>(mode), ignoreCase: true);
    }
}

public sealed class PostgresStoreContractTests : StoreContract
{
    private readonly List<NpgsqlDataSource> _dataSources = [];

    protected override Task<string> NewDatabaseAsync() => PostgresServer.CreateDatabaseAsync();

    protected override IStore Open(string connectionString)
    {
        var dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
        lock (_dataSources) _dataSources.Add(dataSource);
        return new PostgresStore(dataSource, Settings);
    }

    protected override async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync();
    }

    protected override async Task ReleaseAsync()
    {
        foreach (var dataSource in _dataSources) await dataSource.DisposeAsync();
    }
}
