namespace VideoCallbacks.Api.Jobs;

public enum TaskIdMatch
{
    /// <summary>No task id was reported: nothing to check.</summary>
    None,
    /// <summary>The job's own task.</summary>
    Same,
    /// <summary>The job has no task yet: this one binds it (a callback raced the submit's answer, or the answer itself).</summary>
    Binds,
    /// <summary>Another task than the one the job is bound to.</summary>
    Different,
}

/// <summary>
/// The one rule for task ids: a job is bound to at most one provider task, and a task belongs to one job only.
/// The verifier, the ingest plan and the submission all ask it.
/// </summary>
public static class TaskIdRule
{
    public static TaskIdMatch Compare(string? boundTaskId, string? reportedTaskId) =>
        reportedTaskId is not { Length: > 0 } ? TaskIdMatch.None
        : boundTaskId is null ? TaskIdMatch.Binds
        : string.Equals(boundTaskId, reportedTaskId, StringComparison.Ordinal) ? TaskIdMatch.Same
        : TaskIdMatch.Different;

    /// <summary>Binding a task to <paramref name="jobId"/> would steal it from <paramref name="ownerJobId"/>, the job that already has it.</summary>
    public static bool OwnedByAnother(string jobId, string? ownerJobId) => ownerJobId is not null && ownerJobId != jobId;
}
