using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Admin;

public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Published events and stored callbacks older than this are deleted. Result URLs expire after ~14 days anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Retention:MaxAge must be between {1} and {2}.")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00", ErrorMessage = "Retention:Interval must be between {1} and {2}.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Prunes old published events and callbacks in small batches. Failed events, and callbacks that
/// could not be understood, stay until an operator replays, reprocesses or purges them.
/// </summary>
public sealed class RetentionWorker(AdminStore store, Submissions.SubmissionStore submissions, IOptions<RetentionOptions> options,
    IOptions<Submissions.IdempotencyOptions> idempotency, TimeProvider time, ILogger<RetentionWorker> logger) : BackgroundService
{
    private const int Batch = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PruneOnceAsync(stoppingToken);
                await Task.Delay(options.Value.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Retention pass failed; will try again");
                await Task.Delay(options.Value.Interval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public async Task PruneOnceAsync(CancellationToken ct)
    {
        var cutoff = time.GetUtcNow() - options.Value.MaxAge;
        int events = 0, callbacks = 0;
        while (true)
        {
            var (e, c) = await store.PruneAsync(cutoff, Batch, ct);
            events += e;
            callbacks += c;
            if (e < Batch && c < Batch) break;
        }
        if (events + callbacks > 0) logger.LogInformation("Retention pruned {Events} published events and {Callbacks} callbacks older than {Cutoff}", events, callbacks, cutoff);
        // Expired idempotency keys: a retry after Idempotency:Lifetime is a new request anyway (the check at submission
        // decides that on its own; this only keeps the table small). Jobs are never pruned: they are the record.
        var keysBefore = time.GetUtcNow() - idempotency.Value.Lifetime;
        var keys = 0;
        int pruned;
        do
        {
            pruned = await submissions.PruneIdempotencyKeysAsync(keysBefore, Batch, ct);
            keys += pruned;
        }
        while (pruned == Batch);
        if (keys > 0) logger.LogInformation("Retention forgot {Keys} idempotency keys first used before {Cutoff}", keys, keysBefore);
    }
}
