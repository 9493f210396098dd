namespace VideoCallbacks.Api.Jobs;

/// <summary>The codes of a job's <c>error</c> that the service itself sets (a provider's own codes are passed through).</summary>
public static class ErrorCodes
{
    public const string ProviderInvalid = "provider_rejected";
    public const string ProviderRateLimited = "provider_rate_limited";
    public const string ProviderUnavailable = "provider_unavailable";
    /// <summary>The provider did not answer the submit; a callback may still arrive and bind the job.</summary>
    public const string SubmissionUnknown = "submission_unknown";
    /// <summary>Nothing was heard from the provider before Reconcile:GiveUpAfter.</summary>
    public const string ProviderTimeout = "provider_timeout";
    /// <summary>The provider answered with a task id that already belongs to another job.</summary>
    public const string ProviderConflict = "provider_conflict";

    public static string ConflictMessage(string providerTaskId, string ownerJobId) =>
        $"The provider answered with task id '{providerTaskId}', which already belongs to job {ownerJobId}. " +
        "This job was not bound to that task and takes no callbacks; the task's events stay with the job that owns it.";
}
