namespace VideoCallbacks.Tests.Submission;

/// <summary>The submission store: jobs round-trip, idempotency keys, and what the provider answered.</summary>
public abstract class SubmissionStoreContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Created_job_round_trips_every_field()
    {
        var now = Time.GetUtcNow();
        var job = new Job
        {
            JobId = StoreData.NewJobId(),
            Provider = ApiframeProvider.Name,
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

        var created = await Submissions.CreateJobAsync(job, null, Ct);

        Assert.Equal(CreateJobOutcome.Created, created.Outcome);
        AssertSameJob(job, created.Job);
        AssertSameJob(job, await Jobs.GetJobAsync(job.JobId, Ct));
    }

    [Fact]
    public async Task Job_without_optional_fields_round_trips()
    {
        var job = new Job
        {
            JobId = StoreData.NewJobId(),
            Provider = NanoGptProvider.Name,
            Status = JobStatuses.Submitted,
            Submission = SubmissionStates.Pending,
            RequestJson = "{}",
            TokenHash = new string('d', 64),
            CreatedAt = Time.GetUtcNow(),
            UpdatedAt = Time.GetUtcNow(),
        };

        await Submissions.CreateJobAsync(job, null, Ct);

        var loaded = await Jobs.GetJobAsync(job.JobId, Ct);
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
        Assert.Null(await Jobs.GetJobAsync("job_does_not_exist", Ct));
        Assert.Empty(await Submissions.GetJobEventsAsync("job_does_not_exist", Ct));
    }

    [Fact]
    public async Task Same_claim_and_hash_returns_the_original_job()
    {
        var claim = new IdempotencyClaim("client-1:key-1", "hash-a");
        var original = StoreData.PendingJob(Time.GetUtcNow());
        Assert.Equal(CreateJobOutcome.Created, (await Submissions.CreateJobAsync(original, claim, Ct)).Outcome);

        var retry = StoreData.PendingJob(Time.GetUtcNow());
        var again = await Submissions.CreateJobAsync(retry, claim, Ct);

        Assert.Equal(CreateJobOutcome.SameRequest, again.Outcome);
        AssertSameJob(original, again.Job);
        Assert.Null(await Jobs.GetJobAsync(retry.JobId, Ct));
    }

    [Fact]
    public async Task Same_claim_with_another_hash_is_a_different_request()
    {
        var original = StoreData.PendingJob(Time.GetUtcNow());
        await Submissions.CreateJobAsync(original, new IdempotencyClaim("client-1:key-1", "hash-a"), Ct);

        var other = StoreData.PendingJob(Time.GetUtcNow());
        var result = await Submissions.CreateJobAsync(other, new IdempotencyClaim("client-1:key-1", "hash-b"), Ct);

        Assert.Equal(CreateJobOutcome.DifferentRequest, result.Outcome);
        Assert.Equal(original.JobId, result.Job.JobId);
        Assert.Null(await Jobs.GetJobAsync(other.JobId, Ct));
    }

    [Fact]
    public async Task Claims_with_different_scope_keys_do_not_collide()
    {
        var first = await Submissions.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), new IdempotencyClaim("client-1:key-1", "hash-a"), Ct);
        var second = await Submissions.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), new IdempotencyClaim("client-2:key-1", "hash-a"), Ct);

        Assert.Equal(CreateJobOutcome.Created, first.Outcome);
        Assert.Equal(CreateJobOutcome.Created, second.Outcome);
        Assert.NotEqual(first.Job.JobId, second.Job.JobId);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_claim_make_exactly_one_job()
    {
        var claim = new IdempotencyClaim("client-1:race", "hash-a");
        var jobs = Enumerable.Range(0, 10).Select(_ => StoreData.PendingJob(Time.GetUtcNow())).ToList();

        var results = await Task.WhenAll(jobs.Select(j => Task.Run(() => Submissions.CreateJobAsync(j, claim, Ct))));

        var created = Assert.Single(results, r => r.Outcome == CreateJobOutcome.Created);
        Assert.Equal(9, results.Count(r => r.Outcome == CreateJobOutcome.SameRequest));
        Assert.All(results, r => Assert.Equal(created.Job.JobId, r.Job.JobId));
        var stored = 0;
        foreach (var job in jobs)
        {
            if (await Jobs.GetJobAsync(job.JobId, Ct) is not null) stored++;
        }
        Assert.Equal(1, stored);
    }

    [Fact]
    public async Task Accepting_a_submission_binds_the_task_and_writes_one_submitted_event_even_twice()
    {
        var job = await CreatePendingAsync(correlationId: "order-7");
        Assert.Empty(await Submissions.GetJobEventsAsync(job.JobId, Ct));
        var nextCheck = Time.GetUtcNow() + TimeSpan.FromMinutes(15);

        var accepted = await Submissions.AcceptSubmissionAsync(job.JobId, "task-1", nextCheck, Ct);
        var again = await Submissions.AcceptSubmissionAsync(job.JobId, "task-1", nextCheck, Ct);

        Assert.Equal("task-1", accepted.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, accepted.Submission);
        Assert.Equal(JobStatuses.Submitted, accepted.Status);
        Assert.Equal(nextCheck, accepted.NextCheckAt);
        Assert.Equal("task-1", again.ProviderTaskId);
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
        Assert.Equal("task-1", stored!.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, stored.Submission);

        var e = Assert.Single(await Submissions.GetJobEventsAsync(job.JobId, Ct));
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
        var (claim, job) = await CreatePendingAsync("client-1:key-r");

        var failed = await Submissions.FailSubmissionAsync(job.JobId, SubmissionStates.Rejected, new JobError("provider_rejected", "bad prompt"),
            claim.ScopeKey, Time.GetUtcNow() + TimeSpan.FromHours(1), Ct);

        Assert.Equal(JobStatuses.Failed, failed.Status);
        Assert.Equal(SubmissionStates.Rejected, failed.Submission);
        Assert.Equal(new JobError("provider_rejected", "bad prompt"), failed.Error);
        Assert.Null(failed.NextCheckAt);
        AssertSameJob(failed, await Jobs.GetJobAsync(job.JobId, Ct));

        var retry = StoreData.PendingJob(Time.GetUtcNow());
        var result = await Submissions.CreateJobAsync(retry, claim, Ct);
        Assert.Equal(CreateJobOutcome.Created, result.Outcome);
        Assert.Equal(retry.JobId, result.Job.JobId);
    }

    [Fact]
    public async Task Unknown_submission_outcome_keeps_the_idempotency_key()
    {
        var (claim, job) = await CreatePendingAsync("client-1:key-u");
        var nextCheck = Time.GetUtcNow() + TimeSpan.FromHours(1);

        var failed = await Submissions.FailSubmissionAsync(job.JobId, SubmissionStates.Unknown, new JobError("submission_unknown", "timeout"), null, nextCheck, Ct);

        Assert.Equal(JobStatuses.Submitted, failed.Status);
        Assert.Equal(SubmissionStates.Unknown, failed.Submission);
        Assert.Equal(nextCheck, failed.NextCheckAt);
        var again = await Submissions.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), claim, Ct);
        Assert.Equal(CreateJobOutcome.SameRequest, again.Outcome);
        Assert.Equal(job.JobId, again.Job.JobId);
    }

    [Fact]
    public async Task Failing_a_submission_a_callback_already_accepted_changes_nothing()
    {
        var (claim, job) = await CreatePendingAsync("client-1:key-late");
        var accepted = await Submissions.AcceptSubmissionAsync(job.JobId, "task-1", Time.GetUtcNow() + TimeSpan.FromMinutes(15), Ct);

        var result = await Submissions.FailSubmissionAsync(job.JobId, SubmissionStates.Rejected, new JobError("provider_rejected", "x"), claim.ScopeKey, null, Ct);

        AssertSameJob(accepted, result);
        AssertSameJob(accepted, await Jobs.GetJobAsync(job.JobId, Ct));
        Assert.Equal(CreateJobOutcome.SameRequest, (await Submissions.CreateJobAsync(StoreData.PendingJob(Time.GetUtcNow()), claim, Ct)).Outcome);
    }

    /// <summary>A pending job created under a fresh idempotency claim for <paramref name="key"/>.</summary>
    private async Task<(IdempotencyClaim Claim, Job Job)> CreatePendingAsync(string key)
    {
        var claim = new IdempotencyClaim(key, "hash-a");
        var job = StoreData.PendingJob(Time.GetUtcNow());
        Assert.Equal(CreateJobOutcome.Created, (await Submissions.CreateJobAsync(job, claim, Ct)).Outcome);
        return (claim, job);
    }
}

public sealed class SqliteSubmissionStoreContractTests() : SubmissionStoreContract(new SqliteTestDatabase());

public sealed class PostgresSubmissionStoreContractTests() : SubmissionStoreContract(new PostgresTestDatabase());
