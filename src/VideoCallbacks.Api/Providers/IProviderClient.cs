using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Submissions;

namespace VideoCallbacks.Api.Providers;

/// <summary>What we hand a provider: the neutral request plus where and how to call us back.</summary>
public sealed record ProviderSubmission(ExtensionRequest Request, string? CallbackUrl, string? WebhookSecret);

public enum SubmitOutcome
{
    Accepted,
    /// <summary>The provider said the request is invalid (422 to our client).</summary>
    Invalid,
    /// <summary>The provider is rate limiting us (429 with Retry-After).</summary>
    RateLimited,
    /// <summary>The provider refused for reasons of its own or ours: down, 5xx, bad credentials (502).</summary>
    Unavailable,
    /// <summary>No answer in time: the provider may have the task (504; never resubmitted automatically).</summary>
    Timeout,
}

public sealed record SubmitResult(SubmitOutcome Outcome, string? TaskId = null, string? Message = null, TimeSpan? RetryAfter = null)
{
    /// <summary>True when the provider certainly did not create a task, so a retry cannot charge twice.</summary>
    public bool NothingCreated => Outcome is SubmitOutcome.Invalid or SubmitOutcome.RateLimited or SubmitOutcome.Unavailable;
}

/// <summary>A provider's answer to "how is this task doing?". Observation null = nothing usable.</summary>
public sealed record StatusResult(ProviderObservation? Observation, TimeSpan? RetryAfter = null, string? Problem = null);

public interface IProviderClient
{
    string Provider { get; }

    /// <summary>Kie and Apiframe call back; NanoGPT must be polled.</summary>
    bool SendsCallbacks { get; }

    Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken);

    Task<StatusResult> GetStatusAsync(string providerTaskId, CancellationToken cancellationToken);
}
