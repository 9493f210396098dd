using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Archive;

/// <summary>
/// The archive stage: claims jobs whose videos wait to be copied (a lease, like the outbox relay), copies each video
/// into the store, then completes the job and writes its completed event in one transaction. Transient failures back
/// off (<see cref="Backoff"/>) until <c>Archive:GiveUpAfter</c>; a refused address, a file too large or not a video
/// fail at once. Either way the completion is published: with our URLs, or with the provider's and the reason.
/// </summary>
public sealed class ArchiveWorker(
    ArchiveStore store,
    IVideoStore videos,
    VideoDownloader downloader,
    DurableUrls urls,
    OutboxSignal signal,
    IOptions<ArchiveOptions> options,
    TimeProvider time,
    ILogger<ArchiveWorker> logger) : BackgroundService
{
    private static readonly TimeSpan RetentionEvery = TimeSpan.FromMinutes(10);

    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly Dictionary<string, Task> _running = new(StringComparer.Ordinal);
    private DateTimeOffset _nextRetention;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        logger.LogInformation("Archive: keeping videos in {Store} ({Concurrency} at a time per instance)", videos.Name, o.Concurrency);
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before claiming, so a completion committed meanwhile still wakes the wait below.
            var next = signal.Next;
            try
            {
                Reap();
                var free = o.Concurrency - _running.Count;
                if (free > 0)
                {
                    var claims = await store.ClaimDueAsync(_owner, time.GetUtcNow(), o.Lease, free, stoppingToken);
                    foreach (var claim in claims) _running[claim.Job.JobId] = ArchiveAsync(claim, stoppingToken);
                    if (claims.Count == free) continue;
                }
                await RetentionAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Archive round failed (store unreachable?); retrying");
            }
            try
            {
                // Wake for new work, the poll interval, or a slot coming free.
                var woken = OutboxSignal.WaitAsync(next, o.PollInterval, time, stoppingToken);
                if (_running.Count == 0) await woken;
                else await Task.WhenAny(woken, Task.WhenAny(_running.Values));
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await StopRunningAsync();
    }

    private void Reap()
    {
        foreach (var (jobId, task) in _running.Where(r => r.Value.IsCompleted).ToList()) _running.Remove(jobId);
    }

    /// <summary>Graceful stop: downloads in flight are cancelled and their claims handed back for any instance to take now.</summary>
    private async Task StopRunningAsync()
    {
        var unfinished = _running.Keys.ToList();
        try
        {
            await Task.WhenAll(_running.Values);
        }
        catch (Exception)
        {
            // Each archive logs its own outcome.
        }
        try
        {
            var released = await store.ReleaseAsync(_owner, unfinished, CancellationToken.None);
            if (released > 0) logger.LogInformation("Archive stopping: released {Count} claimed archives for any instance to take", released);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Archive stopping: could not release {Count} claims; they become claimable when the lease expires", unfinished.Count);
        }
    }

    private async Task ArchiveAsync(ArchiveClaim claim, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var job = claim.Job;
        var o = options.Value;
        try
        {
            var stored = new List<JobVideo>(job.Videos.Count);
            await LeaseHold.RunAsync(async ct =>
            {
                foreach (var video in job.Videos)
                {
                    stored.Add(await downloader.ArchiveAsync(job.JobId, video.Index, video.ProviderUrl, videos, urls.For, ct));
                }
            }, async ct => await store.RenewAsync(_owner, job.JobId, time.GetUtcNow(), o.Lease, ct) ? null : "the archive lease had expired",
            o.Lease, time, stoppingToken);

            if (await store.SettleAsync(_owner, job.JobId, j => JobStateMachine.Archived(j, stored, time.GetUtcNow()), CancellationToken.None))
            {
                signal.Notify();
                logger.LogInformation("Job {JobId}: {Count} videos archived ({Bytes} bytes)", job.JobId, stored.Count, stored.Sum(v => v.Bytes ?? 0));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Released by StopRunningAsync.
        }
        catch (LeaseLostException e)
        {
            logger.LogWarning("Job {JobId}: archive abandoned: {Reason}; whoever holds it now copies the videos", job.JobId, e.Message);
        }
        catch (Exception e)
        {
            await FailedAttemptAsync(claim, e);
        }
    }

    private async Task FailedAttemptAsync(ArchiveClaim claim, Exception e)
    {
        var job = claim.Job;
        var o = options.Value;
        var now = time.GetUtcNow();
        var failure = e switch
        {
            ArchiveFailedException f => f.Failure,
            VideoStoreUnavailableException s => new ArchiveFailure(ArchiveErrors.Transient, $"the {videos.Name} store is unavailable: {s.Message}", false),
            _ => new ArchiveFailure(ArchiveErrors.Transient, $"{e.GetType().Name}: {e.Message}", false),
        };
        var attempts = claim.Attempts + 1;
        try
        {
            if (failure.Permanent || now - claim.StartedAt >= o.GiveUpAfter)
            {
                var reason = failure.Permanent
                    ? new JobError(failure.Code, failure.Message)
                    : new JobError(ArchiveErrors.GaveUp, $"gave up after {attempts} attempts over {o.GiveUpAfter} (Archive:GiveUpAfter); last: {failure.Message}");
                if (await store.SettleAsync(_owner, job.JobId, j => JobStateMachine.ArchiveGaveUp(j, reason, now), CancellationToken.None))
                {
                    signal.Notify();
                    logger.LogError("Job {JobId}: archive failed ({Code}: {Message}); published with the provider's URLs. Retry it with the admin API or CLI.",
                        job.JobId, reason.Code, reason.Message);
                }
                return;
            }
            var next = now + Backoff.Jittered(o.BaseDelay, o.MaxDelay, attempts);
            logger.LogWarning("Job {JobId}: archive attempt {Attempt} failed ({Message}); next try at {Next:O}", job.JobId, attempts, failure.Message, next);
            await store.RetryLaterAsync(_owner, job.JobId, failure.Message, next, CancellationToken.None);
        }
        catch (Exception again)
        {
            // The lease lapses and the work is claimed again: nothing is lost.
            logger.LogWarning(again, "Job {JobId}: could not record the failed archive attempt; it is retried when its lease lapses", job.JobId);
        }
    }

    /// <summary><c>Archive:Retention</c>: archived videos older than it are deleted; the job stays and says so.</summary>
    private async Task RetentionAsync(CancellationToken ct)
    {
        if (options.Value.Retention is not { } retention) return;
        var now = time.GetUtcNow();
        if (now < _nextRetention) return;
        _nextRetention = now + (retention / 4 < RetentionEvery ? retention / 4 : RetentionEvery);
        foreach (var jobId in await store.ArchivedBeforeAsync(now - retention, 500, ct))
        {
            await videos.DeleteJobAsync(jobId, ct);
            await store.MarkExpiredAsync(jobId, now, ct);
        }
    }
}
