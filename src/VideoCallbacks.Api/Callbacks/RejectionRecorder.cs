using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>
/// Records failed verifications for operators, at a bounded rate per instance, so a flood of forgeries
/// shows up without filling the disk.
/// </summary>
public sealed class RejectionRecorder : IDisposable
{
    private readonly IngestStore _store;
    private readonly ILogger<RejectionRecorder> _logger;
    private readonly MinuteBudget _budget;

    public RejectionRecorder(IngestStore store, IOptions<CallbackOptions> options, TimeProvider time, ILogger<RejectionRecorder> logger)
    {
        _store = store;
        _logger = logger;
        _budget = new MinuteBudget(() => options.Value.MaxRejectedRecordsPerMinute, time,
            dropped => logger.LogWarning("{Dropped} refused callbacks were not recorded in the last minute (rate limit)", dropped));
    }

    public async Task RecordAsync(RejectedCallback callback, CancellationToken ct)
    {
        // Logged and stored under the same budget: a flood of forgeries must not flood the logs either.
        if (!_budget.TryTake()) return;
        _logger.LogWarning("Refused a {Provider} callback for job {JobId}: {Reason}", callback.Provider, callback.JobId ?? "(unknown)", callback.Reason);
        try
        {
            await _store.RecordRejectedCallbackAsync(callback, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Could not record a refused callback");
        }
    }

    public void Dispose() => _budget.Dispose();
}
