using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Submissions;

public enum SubmissionOutcome { Accepted, Conflict, Refused }

public sealed record SubmissionResult(SubmissionOutcome Outcome, Job Job, SubmitResult? Refusal = null);

/// <summary>
/// Submits an extension exactly once: the job row (and idempotency key) is committed before the
/// provider is called, so a fast callback finds its job and a retry never submits twice.
/// </summary>
public sealed class SubmissionService(
    SubmissionStore store,
    JobReader jobs,
    ProviderRegistry providers,
    ProviderEndpoints endpoints,
    SelfAddress self,
    OutboxSignal signal,
    SubmissionAnswerCache answers,
    JobCredentialCache credentials,
    IOptions<ReconcileOptions> reconcile,
    IOptions<IdempotencyOptions> idempotency,
    TimeProvider time,
    ILogger<SubmissionService> logger)
{
    /// <param name="tenant">The client the job belongs to.</param>
    /// <param name="idempotencyScope">Where <paramref name="idempotencyKey"/> is remembered (per named client, or per key).</param>
    public async Task<SubmissionResult> SubmitAsync(ExtensionRequest request, string tenant, string idempotencyScope, string? idempotencyKey, CancellationToken ct)
    {
        var provider = providers.Get(request.Provider!);
        var now = time.GetUtcNow();
        var jobId = "job_" + Guid.CreateVersion7(now).ToString("N");
        using var activity = Telemetry.Source.StartActivity("extension.submit");
        activity?.SetTag("videocallbacks.provider", request.Provider);
        activity?.SetTag("videocallbacks.job_id", jobId);
        var token = Secrets.NewToken();
        var secret = provider.Callbacks?.NeedsWebhookSecret == true ? Secrets.NewToken() : null;
        var requestJson = CanonicalRequest.Json(request);
        var expiredBefore = now - idempotency.Value.Lifetime;
        var claim = idempotencyKey is null ? null : new IdempotencyClaim(
            $"{idempotencyScope}:{idempotencyKey}", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(requestJson))))
        {
            ExpiredBefore = expiredBefore,
        };

        // A retry seen before (on any instance): answered without the write path or the provider.
        if (claim is not null && await answers.FindAsync(claim.ScopeKey, ct) is { } known && known.FirstUsedAt >= expiredBefore
            && await jobs.GetJobAsync(known.JobId, ct) is { } knownJob)
        {
            return known.RequestHash == claim.RequestHash ? await ReplayAsync(knownJob, ct) : new SubmissionResult(SubmissionOutcome.Conflict, knownJob);
        }

        var job = new Job
        {
            JobId = jobId,
            Client = tenant,
            Provider = request.Provider!,
            Status = JobStatuses.Submitted,
            Submission = SubmissionStates.Pending,
            CorrelationId = request.CorrelationId,
            Metadata = request.Metadata ?? [],
            SourceTaskId = request.SourceTaskId,
            Index = request.Index,
            RequestJson = requestJson,
            TokenHash = Secrets.Hash(token),
            SecretHash = secret is null ? null : Secrets.Hash(secret),
            CreatedAt = now,
            UpdatedAt = now,
            // Until the provider answers, only a give-up check is due; the real schedule is set on acceptance.
            NextCheckAt = now + reconcile.Value.GiveUpAfter,
        };

        var created = await store.CreateJobAsync(job, claim, ct);
        switch (created.Outcome)
        {
            case CreateJobOutcome.DifferentRequest:
                return new SubmissionResult(SubmissionOutcome.Conflict, created.Job);
            case CreateJobOutcome.SameRequest:
                var replayed = await ReplayAsync(created.Job, ct);
                await RememberAnswerAsync(claim!, replayed.Job);
                return replayed;
        }

        var callbackUrl = provider.Callbacks is not null ? $"{self.PublicBaseUrl}/v1/callbacks/{request.Provider}/{jobId}/{token}" : null;
        var result = await provider.SubmitAsync(new ProviderSubmission(request, callbackUrl, secret), CancellationToken.None);
        // A provider that echoes our request would hand our secrets to whoever reads its message: strip
        // everything we sent it that is secret before the text is logged, stored or returned.
        result = result with { Message = SecretScrubber.Scrub(result.Message, callbackUrl, token, secret, endpoints.For(provider).ApiKey) };
        if (result.Outcome == SubmitOutcome.Accepted)
        {
            var accepted = await AcceptAsync(jobId, result.TaskId!, NextCheck(provider, time.GetUtcNow()));
            if (accepted.Error?.Code == ErrorCodes.ProviderConflict)
            {
                logger.LogError("Job {JobId}: {Provider} answered with task id {ProviderTaskId}, which belongs to another job; the job is failed with {Code}",
                    jobId, request.Provider, result.TaskId, ErrorCodes.ProviderConflict);
                await RememberAnswerAsync(claim, accepted);
                return new SubmissionResult(SubmissionOutcome.Refused, accepted);
            }
            signal.Notify();
            await credentials.RememberAsync(accepted, CancellationToken.None);
            await RememberAnswerAsync(claim, accepted);
            logger.LogInformation("Job {JobId} submitted to {Provider} as task {ProviderTaskId}", jobId, request.Provider, result.TaskId);
            return new SubmissionResult(SubmissionOutcome.Accepted, accepted);
        }

        var error = new JobError(ErrorCodeFor(result.Outcome), result.Message ?? "The provider refused the request.");
        logger.LogWarning("Job {JobId}: {Provider} submission {Outcome}: {Message}", jobId, request.Provider, result.Outcome, result.Message);
        var failed = await store.FailSubmissionAsync(jobId,
            result.NothingCreated ? SubmissionStates.Rejected : SubmissionStates.Unknown,
            error,
            // A certain refusal frees the key, so the client may retry it; an unknown outcome must not.
            result.NothingCreated ? claim?.ScopeKey : null,
            job.NextCheckAt,
            CancellationToken.None);
        await RememberAnswerAsync(claim, failed);
        return failed.Submission == SubmissionStates.Accepted
            ? new SubmissionResult(SubmissionOutcome.Accepted, failed)
            : new SubmissionResult(SubmissionOutcome.Refused, failed, result);
    }

    public Task<Job?> GetAsync(string jobId, CancellationToken ct) => jobs.GetJobAsync(jobId, ct);

    /// <summary>
    /// Binds the task. Two instances binding one task id at once can both pass the store's ownership check; the
    /// unique index stops the second, whose retry then sees the owner and ends as a conflict instead of a 500.
    /// </summary>
    private async Task<Job> AcceptAsync(string jobId, string taskId, DateTimeOffset nextCheck)
    {
        try
        {
            return await store.AcceptSubmissionAsync(jobId, taskId, nextCheck, CancellationToken.None);
        }
        catch (System.Data.Common.DbException e)
        {
            logger.LogWarning("Job {JobId}: binding task {ProviderTaskId} raced another writer ({Error}); checking again", jobId, taskId, e.Message);
            return await store.AcceptSubmissionAsync(jobId, taskId, nextCheck, CancellationToken.None);
        }
    }

    public Task<IReadOnlyList<StoredEvent>> GetEventsAsync(string jobId, CancellationToken ct) => store.GetJobEventsAsync(jobId, ct);

    /// <summary>When to ask the provider next: a polled provider at its interval, the others only if silent (Reconcile:After).</summary>
    public DateTimeOffset NextCheck(IProvider provider, DateTimeOffset now) => now + (provider.Polling?.Interval ?? reconcile.Value.After);

    /// <summary>
    /// The same request again: answer with the original outcome. If the first request is still talking
    /// to the provider, wait for it (bounded) rather than report a half-made job.
    /// </summary>
    private async Task<SubmissionResult> ReplayAsync(Job job, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(60);
        while (job.Submission == SubmissionStates.Pending && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct);
            job = await jobs.GetJobAsync(job.JobId, ct) ?? job;
        }
        if (job.Submission == SubmissionStates.Unknown)
        {
            // Still unknown (no callback or status query has bound it): answer what the first request answered, a 504,
            // never a 202 that would tell the client an uncertain submission succeeded. Nothing is resubmitted.
            return new SubmissionResult(SubmissionOutcome.Refused, job, new SubmitResult(SubmitOutcome.Timeout, Message: job.Error?.Message ?? "The provider did not answer in time"));
        }
        if (job.Submission != SubmissionStates.Rejected) return new SubmissionResult(SubmissionOutcome.Accepted, job);
        if (job.Error?.Code == ErrorCodes.ProviderConflict) return new SubmissionResult(SubmissionOutcome.Refused, job);
        var outcome = job.Error?.Code switch
        {
            ErrorCodes.ProviderInvalid => SubmitOutcome.Invalid,
            ErrorCodes.ProviderRateLimited => SubmitOutcome.RateLimited,
            _ => SubmitOutcome.Unavailable,
        };
        return new SubmissionResult(SubmissionOutcome.Refused, job, new SubmitResult(outcome, Message: job.Error?.Message, RetryAfter: TimeSpan.FromSeconds(10)));
    }

    /// <summary>Shares a key's answer once the database keeps the key for good (not pending, not freed by a refusal).</summary>
    private ValueTask RememberAnswerAsync(IdempotencyClaim? claim, Job job) =>
        claim is null || job.Submission is SubmissionStates.Pending or SubmissionStates.Rejected
            ? ValueTask.CompletedTask
            : answers.RememberAsync(claim.ScopeKey, new SubmissionAnswer(claim.RequestHash, job.JobId, job.CreatedAt), CancellationToken.None);

    private static string ErrorCodeFor(SubmitOutcome outcome) => outcome switch
    {
        SubmitOutcome.Invalid => ErrorCodes.ProviderInvalid,
        SubmitOutcome.RateLimited => ErrorCodes.ProviderRateLimited,
        SubmitOutcome.Timeout => ErrorCodes.SubmissionUnknown,
        _ => ErrorCodes.ProviderUnavailable,
    };
}
