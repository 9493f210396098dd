namespace VideoCallbacks.Tests.Callbacks;

/// <summary>The ingest decisions alone, without a database: a batch and the jobs as read go in, rows and events come out.</summary>
public sealed class IngestPlanTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static Job Accepted(string provider = KieProvider.Name) =>
        StoreData.PendingJob(Now - TimeSpan.FromMinutes(1), provider) with
        {
            ProviderTaskId = "task-1",
            Submission = SubmissionStates.Accepted,
        };

    private static Dictionary<string, Job> Read(params Job[] jobs) => jobs.ToDictionary(j => j.JobId, StringComparer.Ordinal);

    private static IngestItem Item(Job job, ProviderObservation? observation, string? taskId = "task-1", string? provider = null) =>
        StoreData.Item(job, taskId, observation, Now, provider);

    [Fact]
    public void Completed_callback_is_accepted_and_writes_one_completed_event()
    {
        var job = Accepted();

        var plan = IngestPlan.Decide([Item(job, StoreData.Completed("https://cdn.example.com/a.mp4"))], Read(job), Now);

        var decision = Assert.Single(plan.Decisions);
        Assert.Equal(new IngestDecision(job.JobId, CallbackOutcomes.Accepted, null, $"{job.JobId}:completed"), decision);
        var e = Assert.Single(plan.Events);
        Assert.Equal(EventTypes.Completed, e.Type);
        var changed = Assert.Single(plan.ChangedJobs);
        Assert.Equal(JobStatuses.Completed, changed.Status);
        Assert.Equal(["https://cdn.example.com/a.mp4"], changed.VideoUrls);
        Assert.Equal(Now, changed.UpdatedAt);
    }

    [Fact]
    public void Callback_for_an_unknown_job_is_unmatched_and_changes_nothing()
    {
        var job = Accepted();

        var plan = IngestPlan.Decide([Item(job, StoreData.Completed())], Read(), Now);

        Assert.Equal(new IngestDecision(null, CallbackOutcomes.Unmatched, "no such job for this provider", null), Assert.Single(plan.Decisions));
        Assert.Empty(plan.Events);
        Assert.Empty(plan.ChangedJobs);
    }

    [Fact]
    public void Callback_naming_another_provider_is_unmatched()
    {
        var job = Accepted(KieProvider.Name);

        var plan = IngestPlan.Decide([Item(job, StoreData.Completed(), provider: ApiframeProvider.Name)], Read(job), Now);

        Assert.Equal(CallbackOutcomes.Unmatched, Assert.Single(plan.Decisions).Outcome);
        Assert.Empty(plan.Events);
    }

    [Fact]
    public void Callback_with_another_task_id_is_rejected()
    {
        var job = Accepted();

        var plan = IngestPlan.Decide([Item(job, StoreData.Completed(), taskId: "task-other")], Read(job), Now);

        Assert.Equal(new IngestDecision(job.JobId, CallbackOutcomes.Rejected, "task id does not match the job", null), Assert.Single(plan.Decisions));
        Assert.Empty(plan.Events);
        Assert.Empty(plan.ChangedJobs);
    }

    [Fact]
    public void Callback_racing_the_submit_answer_binds_the_task_and_writes_submitted_before_the_observation()
    {
        var pending = StoreData.PendingJob(Now - TimeSpan.FromMinutes(1));

        var plan = IngestPlan.Decide([Item(pending, StoreData.Completed(), taskId: "task-raced")], Read(pending), Now);

        Assert.Equal([EventTypes.Submitted, EventTypes.Completed], plan.Events.Select(e => e.Type));
        var changed = Assert.Single(plan.ChangedJobs);
        Assert.Equal("task-raced", changed.ProviderTaskId);
        Assert.Equal(SubmissionStates.Accepted, changed.Submission);
        Assert.Equal(JobStatuses.Completed, changed.Status);
        Assert.Equal(CallbackOutcomes.Accepted, Assert.Single(plan.Decisions).Outcome);
    }

    [Fact]
    public void Body_that_was_not_understood_is_kept_as_failed_with_its_problem()
    {
        var job = Accepted();
        var item = Item(job, observation: null) with { Problem = "no status field" };

        var plan = IngestPlan.Decide([item], Read(job), Now);

        Assert.Equal(new IngestDecision(job.JobId, CallbackOutcomes.Failed, "no status field", null), Assert.Single(plan.Decisions));
        Assert.Empty(plan.Events);
    }

    [Fact]
    public void Later_items_of_one_job_see_the_earlier_ones_of_the_same_batch()
    {
        var job = Accepted();

        var plan = IngestPlan.Decide(
            [Item(job, ProviderObservation.Processing(40)), Item(job, ProviderObservation.Processing(20)), Item(job, StoreData.Completed()), Item(job, StoreData.Completed())],
            Read(job), Now);

        Assert.Equal(
            [CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate, CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate],
            plan.Decisions.Select(d => d.Outcome));
        Assert.Equal([$"{job.JobId}:progress:40", $"{job.JobId}:completed"], plan.Events.Select(e => e.EventId));
        // One row update per job, in its final state.
        Assert.Equal(JobStatuses.Completed, Assert.Single(plan.ChangedJobs).Status);
    }

    [Fact]
    public void Failure_after_completion_is_an_anomaly_and_the_first_terminal_state_stands()
    {
        var completed = Accepted() with { Status = JobStatuses.Completed, Progress = 100 };

        var plan = IngestPlan.Decide([Item(completed, ProviderObservation.Failed("boom", "late failure"))], Read(completed), Now);

        var decision = Assert.Single(plan.Decisions);
        Assert.Equal(CallbackOutcomes.Duplicate, decision.Outcome);
        Assert.StartsWith("anomaly: ", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(plan.Events);
        Assert.Empty(plan.ChangedJobs);
    }

    [Fact]
    public void Deciding_leaves_the_jobs_as_read_untouched()
    {
        var job = Accepted();
        var read = Read(job);

        IngestPlan.Decide([Item(job, StoreData.Completed())], read, Now);

        Assert.Same(job, read[job.JobId]);
    }

    [Fact]
    public void Event_the_database_already_had_turns_its_callback_into_a_duplicate()
    {
        var first = Accepted();
        var second = Accepted() with { ProviderTaskId = "task-2" };
        var plan = IngestPlan.Decide([Item(first, StoreData.Completed()), Item(second, StoreData.Completed(), taskId: "task-2")], Read(first, second), Now);

        var settled = plan.Settle(new HashSet<string>(StringComparer.Ordinal) { $"{second.JobId}:completed" });

        Assert.Equal(new IngestDecision(first.JobId, CallbackOutcomes.Duplicate, "event already exists", $"{first.JobId}:completed"), settled[0]);
        Assert.Equal(new IngestDecision(second.JobId, CallbackOutcomes.Accepted, null, $"{second.JobId}:completed"), settled[1]);
        // The plan itself is not changed by settling.
        Assert.Equal(CallbackOutcomes.Accepted, plan.Decisions[0].Outcome);
    }
}
