using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Group commit: every handler hands its verified callback to this single writer, which commits
/// whatever has queued up in one transaction and then releases all their responses. One fsync
/// then pays for many callbacks, which is how ingest outruns one-transaction-per-callback.
/// </summary>
public sealed class IngestWriter(IngestStore store, OutboxSignal signal, IOptions<CallbackOptions> options, Telemetry telemetry, ILogger<IngestWriter> logger)
    : BackgroundService
{
    /// <summary>Trace = the request (or check) that handed the item over; the commit span links back to it.</summary>
    private sealed record Pending(IngestItem Item, TaskCompletionSource<IngestResult> Done, ActivityContext Trace, long Enqueued);

    /// <summary>Diagnostics at Debug only: where the ingest tail comes from (see <see cref="IngestStats"/>).</summary>
    private static readonly TimeSpan StatsInterval = TimeSpan.FromSeconds(5);

    private readonly IngestStats? _stats = logger.IsEnabled(LogLevel.Debug) ? new IngestStats() : null;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(20_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Completes once the item is committed; throws if the store could not take it.</summary>
    public async Task<IngestResult> WriteAsync(IngestItem item, CancellationToken cancellationToken)
    {
        var pending = new Pending(item, new TaskCompletionSource<IngestResult>(TaskCreationOptions.RunContinuationsAsynchronously),
            Activity.Current?.Context ?? default, Stopwatch.GetTimestamp());
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new StoreUnavailableException("The service is shutting down.");
        }

        // Not cancellable once queued: the commit may already be under way, and the caller must learn its outcome.
        return await pending.Done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var max = options.Value.MaxBatch;
        var batch = new List<Pending>(max);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < max && _queue.Reader.TryRead(out var p)) batch.Add(p);
                await CommitAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down. The web server is registered after this writer, so the host has already stopped it
            // (hosted services stop in reverse order) and its in-flight requests got their answers from us;
            // whatever is still queued (a late poller's result) is committed rather than dropped. The host's
            // ShutdownTimeout bounds this; anyone handing over from now on is told 503.
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryPeek(out _))
            {
                batch.Clear();
                while (batch.Count < max && _queue.Reader.TryRead(out var p)) batch.Add(p);
                await CommitAsync(batch);
            }
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        var started = telemetry.Now();
        var timings = _stats is null ? null : new IngestTimings();
        // One commit serves many requests, so it is a root span linked to each of them rather than anyone's child.
        using var activity = Telemetry.Source.StartActivity("ingest.commit", ActivityKind.Internal, parentContext: default,
            links: batch.Where(p => p.Trace != default).Select(p => new ActivityLink(p.Trace)));
        activity?.SetTag("videocallbacks.batch_size", batch.Count);
        try
        {
            var results = await store.IngestAsync(batch.Select(p => p.Item).ToList(), CancellationToken.None, timings);
            for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            telemetry.IngestBatch(batch.Count, started);
            if (timings is not null) RecordStats(batch, started, timings);
            if (results.Any(r => r.EventId is not null)) signal.Notify();
        }
        catch (Exception e) when (batch.Count > 1)
        {
            // One bad item must not sink its neighbours: the batch rolled back, so retry them one by one.
            logger.LogWarning(e, "Group commit of {Count} callbacks failed; retrying them one at a time", batch.Count);
            foreach (var p in batch) await CommitAsync([p]);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not commit a callback for job {JobId}", batch[0].Item.JobId);
            batch[0].Done.TrySetException(new StoreUnavailableException("The store could not commit the callback.", e));
        }
    }

    private void RecordStats(List<Pending> batch, long started, IngestTimings timings)
    {
        _stats!.Record(batch.Select(p => p.Enqueued).ToList(), started, timings);
        if (_stats.Elapsed >= StatsInterval.TotalSeconds) logger.LogDebug("Ingest stats {Stats}", _stats.TakeSummary());
    }
}

public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
