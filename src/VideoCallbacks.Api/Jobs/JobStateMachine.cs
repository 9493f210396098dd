using VideoCallbacks.Api.Events;

namespace VideoCallbacks.Api.Jobs;

/// <summary>What a provider told us about a task, in provider-neutral terms.</summary>
public sealed record ProviderObservation(
    string Status,
    int? Progress = null,
    IReadOnlyList<string>? VideoUrls = null,
    JobError? Error = null)
{
    public static ProviderObservation Processing(int? progress) => new(JobStatuses.Processing, progress);
    public static ProviderObservation Completed(IReadOnlyList<string> urls) => new(JobStatuses.Completed, 100, urls);
    public static ProviderObservation Failed(string code, string message) => new(JobStatuses.Failed, null, null, new JobError(code, message));
}

public enum TransitionKind
{
    /// <summary>The job moved; an event is emitted.</summary>
    Advanced,
    /// <summary>Nothing new (repeat, stale progress, progress after a terminal state).</summary>
    Duplicate,
    /// <summary>A second, different terminal report: recorded, not applied.</summary>
    Anomaly,
}

public sealed record Transition(TransitionKind Kind, Job Job, NewEvent? Event, string? Note);

/// <summary>
/// The one place that decides how a job moves. Progress only rises, the first terminal
/// state wins and sticks, and event ids derive from the state, so replays are harmless.
/// </summary>
public static class JobStateMachine
{
    /// <param name="archiveVideos">
    /// True when videos are kept (<c>Archive:Store</c> is not <c>None</c>): a completion then waits, as processing at
    /// 100, until the archive stage has copied the videos (<see cref="Archived"/>, <see cref="ArchiveGaveUp"/>).
    /// </param>
    public static Transition Apply(Job job, ProviderObservation observation, DateTimeOffset now, bool archiveVideos)
    {
        if (job.IsArchiving)
        {
            // The provider is done with it; only the archive stage moves it on.
            return observation.Status == JobStatuses.Failed
                ? new Transition(TransitionKind.Anomaly, job, null, "provider reported 'failed' after it reported the videos; the completion stands")
                : new Transition(TransitionKind.Duplicate, job, null, "the videos are being archived");
        }
        if (job.IsTerminal)
        {
            if (JobStatuses.IsTerminal(observation.Status) && observation.Status != job.Status)
            {
                return new Transition(TransitionKind.Anomaly, job, null,
                    $"provider reported '{observation.Status}' after the job was already '{job.Status}'; the first terminal state stands");
            }
            return new Transition(TransitionKind.Duplicate, job, null, $"job is already {job.Status}");
        }

        Job next;
        switch (observation.Status)
        {
            case JobStatuses.Completed:
                var urls = observation.VideoUrls ?? [];
                var videos = urls.Select((url, i) => new JobVideo(i, url, url)).ToList();
                // Nothing to copy: complete at once (a provider that reports success without videos).
                var archiving = archiveVideos && urls.Count > 0;
                next = job with
                {
                    Status = archiving ? JobStatuses.Processing : JobStatuses.Completed,
                    Progress = 100,
                    VideoUrls = urls,
                    Videos = videos,
                    Archive = new JobArchive(archiving ? ArchiveStatuses.Pending : archiveVideos ? ArchiveStatuses.Archived : ArchiveStatuses.Off),
                    ArchiveNextAt = archiving ? now : null,
                    Error = null,
                    UpdatedAt = now,
                    // Waiting for its archive is not silence: nobody asks the provider about it again.
                    NextCheckAt = null,
                };
                break;
            case JobStatuses.Failed:
                next = job with
                {
                    Status = JobStatuses.Failed,
                    Error = observation.Error ?? new JobError("provider_failed", "The provider reported a failure without a reason."),
                    UpdatedAt = now,
                    NextCheckAt = null,
                };
                break;
            case JobStatuses.Processing:
                var progress = Math.Clamp(observation.Progress ?? job.Progress, 0, 99);
                var firstProcessing = job.Status == JobStatuses.Submitted;
                if (!firstProcessing && progress <= job.Progress)
                {
                    return new Transition(TransitionKind.Duplicate, job, null, $"progress {progress} is not above {job.Progress}");
                }
                next = job with { Status = JobStatuses.Processing, Progress = Math.Max(progress, job.Progress), UpdatedAt = now };
                break;
            default:
                return new Transition(TransitionKind.Duplicate, job, null, $"status '{observation.Status}' carries no news");
        }

        return new Transition(TransitionKind.Advanced, next, NewEvent.For(next, now), null);
    }

    /// <summary>
    /// Every video is stored: a job waiting for its archive completes (the completed event carries the durable URLs);
    /// a completed job whose archive an operator retried announces the durable URLs with an archived event.
    /// Null when the job is not waiting for this (an operator, or another instance, settled it first).
    /// </summary>
    public static Transition? Archived(Job job, IReadOnlyList<JobVideo> stored, DateTimeOffset now)
    {
        if (job.Archive?.Status != ArchiveStatuses.Pending) return null;
        var next = job with
        {
            Status = JobStatuses.Completed,
            Progress = 100,
            Videos = stored,
            VideoUrls = [.. stored.Select(v => v.Url)],
            Archive = new JobArchive(ArchiveStatuses.Archived),
            ArchiveNextAt = null,
            UpdatedAt = now,
        };
        var lateArchive = job.Status == JobStatuses.Completed;
        return new Transition(TransitionKind.Advanced, next, lateArchive ? NewEvent.Archived(next, now) : NewEvent.For(next, now), null);
    }

    /// <summary>
    /// The videos could not be copied: the completion is still published, with the provider's URLs and the reason.
    /// For an operator's retry of a completed job: the job records the new failure, and no event is sent.
    /// </summary>
    public static Transition? ArchiveGaveUp(Job job, JobError reason, DateTimeOffset now)
    {
        if (job.Archive?.Status != ArchiveStatuses.Pending) return null;
        var next = job with
        {
            Status = JobStatuses.Completed,
            Progress = 100,
            Videos = [.. job.Videos.Select(v => new JobVideo(v.Index, v.ProviderUrl, v.ProviderUrl))],
            VideoUrls = [.. job.Videos.Select(v => v.ProviderUrl)],
            Archive = new JobArchive(ArchiveStatuses.Failed, reason),
            ArchiveNextAt = null,
            UpdatedAt = now,
        };
        return new Transition(TransitionKind.Advanced, next, job.Status == JobStatuses.Completed ? null : NewEvent.For(next, now), null);
    }

    /// <summary>An operator asks for another try at a completed job's failed archive. Null when there is nothing to retry.</summary>
    public static Job? RetryArchive(Job job, DateTimeOffset now) =>
        job.Status == JobStatuses.Completed && job.Archive?.Status == ArchiveStatuses.Failed && job.Videos.Count > 0
            ? job with { Archive = new JobArchive(ArchiveStatuses.Pending), ArchiveNextAt = now, UpdatedAt = now }
            : null;

    /// <summary>
    /// Binds the provider's task id (the provider accepted the submission, or a callback raced its answer);
    /// a job still at "submitted" announces itself with its submitted event.
    /// </summary>
    public static (Job Job, NewEvent? Submitted) Bind(Job job, string providerTaskId, DateTimeOffset? nextCheckAt, DateTimeOffset now)
    {
        job = job with
        {
            ProviderTaskId = providerTaskId,
            Submission = SubmissionStates.Accepted,
            Error = job.Status == JobStatuses.Submitted ? null : job.Error,
            UpdatedAt = now,
            NextCheckAt = nextCheckAt,
        };
        return (job, job.Status == JobStatuses.Submitted ? NewEvent.For(job, now) : null);
    }

    /// <summary>
    /// The provider accepted the submission with <paramref name="providerTaskId"/>. Already bound (a callback came first):
    /// unchanged. The task already belongs to another job (<paramref name="ownerJobId"/>): binding it would steal that
    /// job's callbacks, so this job ends here, visibly, refused, and takes no callbacks. Otherwise it is bound.
    /// </summary>
    public static (Job Job, NewEvent? Submitted) Accept(Job job, string providerTaskId, string? ownerJobId, DateTimeOffset? nextCheckAt, DateTimeOffset now)
    {
        if (job.Submission == SubmissionStates.Accepted) return (job, null);
        if (TaskIdRule.OwnedByAnother(job.JobId, ownerJobId))
        {
            return (job with
            {
                Submission = SubmissionStates.Rejected,
                Status = JobStatuses.Failed,
                Error = new JobError(ErrorCodes.ProviderConflict, ErrorCodes.ConflictMessage(providerTaskId, ownerJobId!)),
                UpdatedAt = now,
                NextCheckAt = null,
            }, null);
        }
        return Bind(job, providerTaskId, nextCheckAt, now);
    }

    /// <summary>
    /// The provider refused the submission (<see cref="SubmissionStates.Rejected"/>: the job fails, nothing is asked again)
    /// or did not answer (<see cref="SubmissionStates.Unknown"/>: it stays open for a callback until its give-up check).
    /// Null when a callback bound the job first: the provider has the task after all, and the job stands as it is.
    /// </summary>
    public static Job? FailSubmission(Job job, string submission, JobError error, DateTimeOffset? nextCheckAt, DateTimeOffset now)
    {
        if (job.Submission == SubmissionStates.Accepted) return null;
        var refused = submission == SubmissionStates.Rejected;
        return job with
        {
            Submission = submission,
            Status = refused ? JobStatuses.Failed : job.Status,
            Error = error,
            UpdatedAt = now,
            NextCheckAt = refused ? null : nextCheckAt,
        };
    }
}
