using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Decides whether a callback is genuine, before anything else looks at it: the per-job URL token always, then the
/// provider's own proof (its <see cref="ICallbackScheme"/>: a webhook secret, a signature), then the task id.
/// </summary>
public sealed class CallbackVerifier
{
    /// <summary>Null when genuine; otherwise the reason, for operators only (the caller gets a bare 401).</summary>
    public string? Verify(string provider, ICallbackScheme scheme, JobCredentials? job, string token, IHeaderDictionary headers, string? bodyTaskId,
        ReadOnlyMemory<byte> body = default)
    {
        // Hash and compare the token even for an unknown job, so the answer takes the same time.
        var tokenOk = Secrets.MatchesHash(token, job?.TokenHash ?? UnknownJobHash);
        if (job is null) return "no such job";
        if (!tokenOk) return "wrong callback token";
        if (job.Provider != provider) return $"job belongs to {job.Provider}, not {provider}";
        if (scheme.Verify(new CallbackProof(headers, job.SecretHash, bodyTaskId ?? job.ProviderTaskId, body)) is { } problem) return problem;
        return TaskIdRule.Compare(job.ProviderTaskId, bodyTaskId) == TaskIdMatch.Different ? "task id in the body is not this job's task" : null;
    }

    private static readonly string UnknownJobHash = Secrets.Hash("no-such-job");
}
