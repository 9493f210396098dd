using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Records failed verifications for operators, at a bounded rate per instance, so a flood of forgeries
/// shows up without filling the disk.
/// </summary>
public sealed class RejectionRecorder(IngestStore store, IOptions<CallbackOptions> options, TimeProvider time, ILogger<RejectionRecorder> logger)
{
    private readonly Lock _gate = new();
    private long _windowStart;
    private int _recorded;
    private long _dropped;

    public async Task RecordAsync(RejectedCallback callback, CancellationToken ct)
    {
        // Logged and stored under the same budget: a flood of forgeries must not flood the logs either.
        if (!TryTake()) return;
        logger.LogWarning("Refused a {Provider} callback for job {JobId}: {Reason}", callback.Provider, callback.JobId ?? "(unknown)", callback.Reason);
        try
        {
            await store.RecordRejectedCallbackAsync(callback, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not record a refused callback");
        }
    }

    private bool TryTake()
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        lock (_gate)
        {
            if (minute != _windowStart)
            {
                if (_dropped > 0) logger.LogWarning("{Dropped} refused callbacks were not recorded in the last minute (rate limit)", _dropped);
                _windowStart = minute;
                _recorded = 0;
                _dropped = 0;
            }
            if (_recorded >= options.Value.MaxRejectedRecordsPerMinute)
            {
                _dropped++;
                return false;
            }
            _recorded++;
            return true;
        }
    }
}
