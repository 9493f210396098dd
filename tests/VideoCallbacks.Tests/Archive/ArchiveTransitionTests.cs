using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Tests.Archive;

/// <summary>The archive's job transitions, decided by the state machine without a database.</summary>
public sealed class ArchiveTransitionTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static Job Processing() => new()
    {
        JobId = "job_a", Provider = "kie", ProviderTaskId = "t1", Status = JobStatuses.Processing, Submission = SubmissionStates.Accepted,
        Progress = 40, RequestJson = "{}", TokenHash = "h", CreatedAt = Now, UpdatedAt = Now, NextCheckAt = Now.AddMinutes(15),
    };

    private static readonly string[] Urls = ["https://cdn.example/0.mp4", "https://cdn.example/1.mp4"];

    [Fact]
    public void A_completion_waits_for_the_archive_as_processing_at_100_and_stops_reconciliation()
    {
        var t = JobStateMachine.Apply(Processing(), ProviderObservation.Completed(Urls), Now, archiveVideos: true);
        Assert.Equal(TransitionKind.Advanced, t.Kind);
        Assert.Equal((JobStatuses.Processing, 100, ArchiveStatuses.Pending), (t.Job.Status, t.Job.Progress, t.Job.Archive!.Status));
        Assert.Null(t.Job.NextCheckAt);
        Assert.Equal(Now, t.Job.ArchiveNextAt);
        Assert.Equal(EventTypes.Progress, t.Event!.Type);
        Assert.Equal(Urls, t.Job.Videos.Select(v => v.ProviderUrl));
    }

    [Fact]
    public void While_archiving_a_repeated_completion_is_a_duplicate_and_a_failure_is_an_anomaly()
    {
        var archiving = JobStateMachine.Apply(Processing(), ProviderObservation.Completed(Urls), Now, true).Job;
        Assert.Equal(TransitionKind.Duplicate, JobStateMachine.Apply(archiving, ProviderObservation.Completed(Urls), Now, true).Kind);
        Assert.Equal(TransitionKind.Duplicate, JobStateMachine.Apply(archiving, ProviderObservation.Processing(99), Now, true).Kind);
        Assert.Equal(TransitionKind.Anomaly, JobStateMachine.Apply(archiving, ProviderObservation.Failed("x", "y"), Now, true).Kind);
    }

    [Fact]
    public void Stored_videos_complete_the_job_with_durable_urls_and_a_give_up_completes_it_with_the_providers()
    {
        var archiving = JobStateMachine.Apply(Processing(), ProviderObservation.Completed(Urls), Now, true).Job;
        JobVideo[] stored = [new(0, "https://us/0", Urls[0], "ab", 3, "video/mp4"), new(1, "https://us/1", Urls[1], "cd", 4, "video/mp4")];

        var done = JobStateMachine.Archived(archiving, stored, Now)!;
        Assert.Equal((JobStatuses.Completed, ArchiveStatuses.Archived, EventTypes.Completed), (done.Job.Status, done.Job.Archive!.Status, done.Event!.Type));
        Assert.Equal(["https://us/0", "https://us/1"], done.Job.VideoUrls);
        Assert.Null(JobStateMachine.Archived(done.Job, stored, Now));

        var gaveUp = JobStateMachine.ArchiveGaveUp(archiving, new JobError("archive_gave_up", "down"), Now)!;
        Assert.Equal((JobStatuses.Completed, ArchiveStatuses.Failed, EventTypes.Completed), (gaveUp.Job.Status, gaveUp.Job.Archive!.Status, gaveUp.Event!.Type));
        Assert.Equal(Urls, gaveUp.Job.VideoUrls);

        // An operator's retry of the failed archive: a success announces itself once, as archived; a failure sends nothing.
        var retried = JobStateMachine.RetryArchive(gaveUp.Job, Now)!;
        Assert.Equal((JobStatuses.Completed, ArchiveStatuses.Pending), (retried.Status, retried.Archive!.Status));
        Assert.Equal(EventTypes.Archived, JobStateMachine.Archived(retried, stored, Now)!.Event!.Type);
        Assert.Null(JobStateMachine.ArchiveGaveUp(retried, new JobError("archive_not_found", "gone"), Now)!.Event);
        Assert.Null(JobStateMachine.RetryArchive(done.Job, Now));
    }

    [Fact]
    public void With_archiving_off_a_completion_completes_at_once_and_says_off()
    {
        var t = JobStateMachine.Apply(Processing(), ProviderObservation.Completed(Urls), Now, archiveVideos: false);
        Assert.Equal((JobStatuses.Completed, ArchiveStatuses.Off, EventTypes.Completed), (t.Job.Status, t.Job.Archive!.Status, t.Event!.Type));
        Assert.Equal(Urls, t.Job.Videos.Select(v => v.Url));
    }
}
