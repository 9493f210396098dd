using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Api.Submissions;

namespace VideoCallbacks.Api.Providers;

/// <summary>
/// Asks providers about jobs: a polled provider's (no webhooks) at its poll interval, and the jobs of providers
/// that call back when their callback has not come after Reconcile:After, with backoff. The schedule lives in the store and is
/// claimed with a lease, so it survives restarts and several instances never ask twice at once.
/// Answers go through the same writer and state machine as callbacks, so they produce the same events.
/// </summary>
public sealed class ProviderCheckWorker(
    CheckScheduleStore store,
    ProviderRegistry providers,
    IngestWriter writer,
    IOptions<ReconcileOptions> reconcile,
    TimeProvider time,
    Telemetry telemetry,
    ILogger<ProviderCheckWorker> logger) : BackgroundService
{
    /// <summary>Long enough for one status query (with its timeout) to finish; a dead holder's claim lapses after it.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // As many questions at once as the most demanding polled provider allows (8 when none is polled).
        var polled = providers.All.Select(p => p.Polling).OfType<ProviderPolling>().ToList();
        var concurrency = polled.Count == 0 ? 8 : polled.Max(p => p.Concurrency);
        using var gate = new SemaphoreSlim(concurrency);
        var shortest = polled.Select(p => p.Interval).Append(reconcile.Value.After).Min();
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 4, 20, 1000));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await store.ClaimDueChecksAsync(time.GetUtcNow(), Lease, concurrency * 4, stoppingToken);
                var running = due.Select(async job =>
                {
                    await gate.WaitAsync(stoppingToken);
                    try { await CheckAsync(job, stoppingToken); }
                    finally { gate.Release(); }
                }).ToList();
                await Task.WhenAll(running);
                if (due.Count > 0) continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Provider check round failed; retrying");
            }
            await Task.Delay(tick, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task CheckAsync(Job job, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var giveUpAt = job.CreatedAt + reconcile.Value.GiveUpAfter;
        var attempts = job.CheckAttempts + 1;
        try
        {
            if (job.ProviderTaskId is null)
            {
                // Submission outcome unknown: nothing to ask about; only a callback or the deadline can settle it.
                if (now >= giveUpAt) await GiveUpAsync(job, ct);
                else await store.RescheduleCheckAsync(job.JobId, giveUpAt, attempts, ct);
                return;
            }

            var provider = providers.Get(job.Provider);
            // Says which instance polled what, so the share of the work across instances can be seen.
            logger.LogDebug("Job {JobId}: asking {Provider} for the status of its task", job.JobId, job.Provider);
            var answer = await provider.GetStatusAsync(job.ProviderTaskId, ct);
            telemetry.ProviderCheck(job.Provider, answer.Observation?.Status ?? "no-answer");
            if (answer.Observation is { } observation)
            {
                var result = await writer.WriteAsync(new IngestItem(job.Provider, job.JobId, job.ProviderTaskId, observation, Raw: null), ct);
                if (JobStatuses.IsTerminal(observation.Status))
                {
                    logger.LogInformation("Job {JobId}: {Provider} status query found it {Status} ({Outcome})", job.JobId, job.Provider, observation.Status, result.Outcome);
                    return;
                }
            }
            else if (answer.Problem is not null)
            {
                logger.LogInformation("Job {JobId}: {Provider} status query gave nothing usable: {Problem}", job.JobId, job.Provider, answer.Problem);
            }

            if (now >= giveUpAt)
            {
                await GiveUpAsync(job, ct);
                return;
            }
            var wait = provider.Polling?.Interval ?? Backoff(attempts);
            if (answer.RetryAfter is { } retryAfter && retryAfter > wait) wait = retryAfter;
            var next = now + wait;
            await store.RescheduleCheckAsync(job.JobId, next < giveUpAt ? next : giveUpAt, attempts, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down mid-check: hand the job back now rather than leave it leased for minutes.
            try
            {
                await store.RescheduleCheckAsync(job.JobId, job.NextCheckAt ?? now, job.CheckAttempts, CancellationToken.None)
                    .WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug(e, "Job {JobId}: could not release its check lease; it lapses on its own", job.JobId);
            }
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Job {JobId}: status check failed; will retry", job.JobId);
            await store.RescheduleCheckAsync(job.JobId, now + Backoff(attempts), attempts, CancellationToken.None);
        }
    }

    private async Task GiveUpAsync(Job job, CancellationToken ct)
    {
        logger.LogWarning("Job {JobId}: nothing final from {Provider} within {GiveUpAfter}; failing it", job.JobId, job.Provider, reconcile.Value.GiveUpAfter);
        await writer.WriteAsync(new IngestItem(job.Provider, job.JobId, null,
            ProviderObservation.Failed(ErrorCodes.ProviderTimeout,
                $"No result from {job.Provider} within {reconcile.Value.GiveUpAfter}; the job was declared lost."), Raw: null), ct);
    }

    /// <summary>Reconciliation backoff: After, 2x, 4x ... capped at MaxInterval.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var baseDelay = reconcile.Value.After;
        var factor = Math.Pow(2, Math.Min(attempts - 1, 20));
        var delay = TimeSpan.FromMilliseconds(Math.Min(baseDelay.TotalMilliseconds * factor, reconcile.Value.MaxInterval.TotalMilliseconds));
        return delay < TimeSpan.FromMilliseconds(20) ? TimeSpan.FromMilliseconds(20) : delay;
    }
}
