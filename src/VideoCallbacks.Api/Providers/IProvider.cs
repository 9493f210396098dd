using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Submissions;
using VideoCallbacks.Simulator;

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

/// <summary>A provider that never calls back is asked instead: how often, and how many questions at once per instance.</summary>
public sealed record ProviderPolling(TimeSpan Interval, int Concurrency);

/// <summary>
/// Everything the service knows about one provider, in one folder under <c>Providers/</c> (the model is Outpost's
/// destination registry: one interface, one registration list, <see cref="ProviderModules"/>). Code outside
/// <c>Providers/</c> asks the <see cref="ProviderRegistry"/> and never names a provider.
/// </summary>
public interface IProvider
{
    /// <summary>The name in routes, requests, jobs, events and metrics (lower case, stable: a contract).</summary>
    string Name { get; }

    /// <summary>The name people read in messages ("Kie.ai").</summary>
    string DisplayName { get; }

    /// <summary>Where it lives, the key, the submission deadline (its section of <c>Providers:*</c>).</summary>
    ProviderEndpointOptions Options { get; }

    /// <summary>How its callbacks are read and proven genuine; null when it never calls back (it is polled).</summary>
    ICallbackScheme? Callbacks { get; }

    /// <summary>Set for a provider that is polled; null for one whose jobs are only reconciled when it falls silent.</summary>
    ProviderPolling? Polling { get; }

    /// <summary>Adds the request rules of this provider's fields (the rules every request shares are the validator's).</summary>
    void AddRequestRules(ProviderRequestRules rules);

    /// <summary>One attempt, ever: a submission costs money and is never repeated automatically.</summary>
    Task<SubmitResult> SubmitAsync(ProviderSubmission submission, CancellationToken cancellationToken);

    /// <summary>Safe to repeat (the status client retries and breaks circuits).</summary>
    Task<StatusResult> GetStatusAsync(string providerTaskId, CancellationToken cancellationToken);

    /// <summary>In the sandbox: makes the simulator's copy of this provider match our settings (its key, its signing).</summary>
    void ConfigureSimulator(SimulatorOptions simulator)
    {
    }
}
