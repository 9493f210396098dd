namespace VideoCallbacks.Tests.Callbacks;

/// <summary>Callback ingest against a real database: the decisions of IngestPlan land as rows, events and callback outcomes.</summary>
public abstract class IngestStoreContract(ITestDatabase engine) : StoreContract(engine)
{
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
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
        Assert.Equal(JobStatuses.Completed, stored!.Status);
        Assert.Equal(100, stored.Progress);
        Assert.Equal(["https://cdn.example.com/a.mp4", "https://cdn.example.com/b.mp4"], stored.VideoUrls);
        Assert.Null(stored.NextCheckAt);
        Assert.Equal(Time.GetUtcNow(), stored.UpdatedAt);

        var callback = await Admin.GetCallbackAsync(result.CallbackId!.Value, Ct);
        Assert.NotNull(callback);
        Assert.Equal(CallbackOutcomes.Accepted, callback.Outcome);
        Assert.Equal(job.JobId, callback.JobId);
        Assert.Equal(result.EventId, callback.EventId);
        Assert.Equal(job.Provider, callback.Provider);
        Assert.Equal("""{"code":200}""", callback.Body);
        Assert.Equal(Time.GetUtcNow(), callback.ReceivedAt);

        var e = await Admin.GetEventAsync(result.EventId!, Ct);
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
        var callbacks = await Admin.ListCallbacksAsync(new CallbackFilter(null, null, null, null, null, 100), Ct);
        Assert.Equal(10, callbacks.Count(c => c.JobId == job.JobId));
    }

    [Fact]
    public async Task Repeats_inside_one_batch_are_duplicates()
    {
        var job = await CreateAcceptedAsync();
        var at = Time.GetUtcNow();

        var results = await Ingest.IngestAsync(
        [
            StoreData.Item(job, job.ProviderTaskId, ProviderObservation.Processing(40), at),
            StoreData.Item(job, job.ProviderTaskId, ProviderObservation.Processing(40), at),
            StoreData.Item(job, job.ProviderTaskId, StoreData.Completed(), at),
            StoreData.Item(job, job.ProviderTaskId, StoreData.Completed(), at),
        ], Ct);

        Assert.Equal([CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate, CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate],
            results.Select(r => r.Outcome));
        var events = await Submissions.GetJobEventsAsync(job.JobId, Ct);
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
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
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
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
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
        var callback = await Admin.GetCallbackAsync(conflicting.CallbackId!.Value, Ct);
        Assert.StartsWith("anomaly", callback!.Reason, StringComparison.Ordinal);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
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
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
        Assert.Equal(JobStatuses.Failed, stored!.Status);
        Assert.Equal(new JobError("generation_failed", "The provider said no."), stored.Error);
        var e = await Admin.GetEventAsync(result.EventId!, Ct);
        using var data = JsonDocument.Parse(e!.DataJson);
        Assert.Equal("The provider said no.", data.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Ingest_for_an_unknown_job_is_unmatched()
    {
        var job = await CreateAcceptedAsync();
        var ghost = job with { JobId = "job_nobody" };

        var unknown = await IngestOneAsync(ghost, StoreData.Completed());
        var wrongProvider = Assert.Single(await Ingest.IngestAsync(
            [StoreData.Item(job, job.ProviderTaskId, StoreData.Completed(), Time.GetUtcNow(), provider: ApiframeProvider.Name)], Ct));

        Assert.Equal(CallbackOutcomes.Unmatched, unknown.Outcome);
        Assert.Equal(CallbackOutcomes.Unmatched, wrongProvider.Outcome);
        Assert.Null((await Admin.GetCallbackAsync(unknown.CallbackId!.Value, Ct))!.JobId);
        Assert.Equal([EventTypes.Submitted], await EventTypesOfAsync(job.JobId));
        Assert.Equal(JobStatuses.Submitted, (await Jobs.GetJobAsync(job.JobId, Ct))!.Status);
    }

    [Fact]
    public async Task Ingest_with_another_task_id_is_rejected()
    {
        var job = await CreateAcceptedAsync();

        var result = await IngestOneAsync(job, StoreData.Completed(), taskId: "task-someone-else");

        Assert.Equal(CallbackOutcomes.Rejected, result.Outcome);
        Assert.Null(result.EventId);
        var callback = await Admin.GetCallbackAsync(result.CallbackId!.Value, Ct);
        Assert.Equal(CallbackOutcomes.Rejected, callback!.Outcome);
        Assert.Equal(job.JobId, callback.JobId);
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
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
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
        Assert.Equal("task-early", stored!.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, stored.Submission);
        Assert.Equal(JobStatuses.Completed, stored.Status);
        var events = await Submissions.GetJobEventsAsync(job.JobId, Ct);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], events.Select(e => e.Type));
        Assert.True(events[0].Sequence < events[1].Sequence);

        // The submit answer arriving afterwards changes nothing and mints nothing.
        var late = await Submissions.AcceptSubmissionAsync(job.JobId, "task-early", Time.GetUtcNow(), Ct);
        Assert.Equal(JobStatuses.Completed, late.Status);
        Assert.Equal(2, (await Submissions.GetJobEventsAsync(job.JobId, Ct)).Count);
    }

    [Fact]
    public async Task Callback_racing_the_submit_answer_gives_submitted_then_completed_once()
    {
        var job = await CreatePendingAsync();

        var accept = Task.Run(() => Submissions.AcceptSubmissionAsync(job.JobId, "task-race", Time.GetUtcNow() + TimeSpan.FromMinutes(15), Ct));
        var ingest = Task.Run(() => IngestOneAsync(job, StoreData.Completed(), taskId: "task-race"));
        await Task.WhenAll(accept, ingest);

        Assert.Equal(CallbackOutcomes.Accepted, (await ingest).Outcome);
        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], await EventTypesOfAsync(job.JobId));
        var stored = await Jobs.GetJobAsync(job.JobId, Ct);
        Assert.Equal("task-race", stored!.ProviderTaskId);
        Assert.Equal(JobStatuses.Completed, stored.Status);
        Assert.Equal(SubmissionStates.Accepted, stored.Submission);
    }

    [Fact]
    public async Task Ingest_without_an_observation_is_stored_as_failed()
    {
        var job = await CreateAcceptedAsync();
        var item = new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, null, StoreData.Raw(Time.GetUtcNow(), "not json"), Problem: "body is not JSON");

        var result = Assert.Single(await Ingest.IngestAsync([item], Ct));

        Assert.Equal(CallbackOutcomes.Failed, result.Outcome);
        Assert.Equal("body is not JSON", result.Reason);
        Assert.Null(result.EventId);
        var callback = await Admin.GetCallbackAsync(result.CallbackId!.Value, Ct);
        Assert.Equal(CallbackOutcomes.Failed, callback!.Outcome);
        Assert.Equal("not json", callback.Body);
        Assert.Equal([EventTypes.Submitted], await EventTypesOfAsync(job.JobId));
        var failed = await Admin.ListCallbacksAsync(new CallbackFilter(CallbackOutcomes.Failed, null, null, null, null, 10), Ct);
        Assert.Equal(result.CallbackId, Assert.Single(failed).Id);
    }

    [Fact]
    public async Task Reprocessing_a_stored_callback_updates_it_in_place()
    {
        var job = await CreateAcceptedAsync();
        var first = Assert.Single(await Ingest.IngestAsync(
            [new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, null, StoreData.Raw(Time.GetUtcNow()), Problem: "not understood")], Ct));

        var again = Assert.Single(await Ingest.IngestAsync(
            [new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, StoreData.Completed(), null, ReprocessCallbackId: first.CallbackId)], Ct));

        Assert.Equal(first.CallbackId, again.CallbackId);
        Assert.Equal(CallbackOutcomes.Accepted, again.Outcome);
        var callback = await Admin.GetCallbackAsync(first.CallbackId!.Value, Ct);
        Assert.Equal(CallbackOutcomes.Accepted, callback!.Outcome);
        Assert.Equal($"{job.JobId}:completed", callback.EventId);
        Assert.Single(await Admin.ListCallbacksAsync(new CallbackFilter(null, null, null, null, null, 10), Ct));
    }

    [Fact]
    public async Task Rejected_callbacks_are_recorded_for_operators()
    {
        var id = await Ingest.RecordRejectedCallbackAsync(
            new RejectedCallback(ApiframeProvider.Name, "job_x", CallbackOutcomes.Rejected, "bad secret", StoreData.Raw(Time.GetUtcNow(), "{\"task_id\":\"t\"}")), Ct);

        var callback = await Admin.GetCallbackAsync(id, Ct);

        Assert.NotNull(callback);
        Assert.Equal(new StoredCallback(id, ApiframeProvider.Name, "job_x", Time.GetUtcNow(), CallbackOutcomes.Rejected, "bad secret", null,
            """{"content-type":"application/json"}""", "{\"task_id\":\"t\"}"), callback);
        Assert.Null(await Admin.GetCallbackAsync(id + 1000, Ct));
    }
}

public sealed class SqliteIngestStoreContractTests() : IngestStoreContract(new SqliteTestDatabase());

public sealed class PostgresIngestStoreContractTests() : IngestStoreContract(new PostgresTestDatabase());
