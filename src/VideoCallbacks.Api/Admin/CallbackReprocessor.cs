using System.Globalization;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Admin;

/// <summary>What reprocessing answered: the result, or why not (an HTTP status and a problem's title and detail).</summary>
public sealed record ReprocessOutcome(ReprocessResult? Result, int Status = 200, string? Title = null, string? Detail = null);

/// <summary>
/// Re-runs normalization and the state machine on one stored verified callback, audited under the admin key that
/// asked. One rule for the admin API and the dashboard.
/// </summary>
public sealed class CallbackReprocessor(AdminStore store, ProviderRegistry providers, IngestWriter writer, TimeProvider time)
{
    public async Task<ReprocessOutcome> ReprocessAsync(long id, string adminKeyId, CancellationToken ct)
    {
        var callback = await store.GetCallbackAsync(id, ct);
        if (callback is null) return new(null, 404, "No such callback.", $"There is no stored callback {id}.");
        if (callback.Outcome is CallbackOutcomes.Rejected or CallbackOutcomes.Unmatched || callback.JobId is null)
        {
            // Reprocessing skips verification, so only callbacks that passed it may be reprocessed.
            return new(null, 409, "Callback was never verified.",
                $"Callback {id} is '{callback.Outcome}' ({callback.Reason}); only verified callbacks (accepted, duplicate, failed) can be reprocessed.");
        }
        if (providers.CallbacksOf(callback.Provider) is not { } scheme)
        {
            return new(null, 409, "Provider takes no callbacks.",
                $"Callback {id} came for '{callback.Provider}', which is not a registered provider that calls back; nothing was reprocessed.");
        }
        var read = CallbackBody.Read(scheme, callback.Body);
        IngestResult result;
        try
        {
            result = await writer.WriteAsync(new IngestItem(callback.Provider, callback.JobId, read.TaskId, read.Observation, Raw: null, read.Problem, ReprocessCallbackId: id), ct);
        }
        catch (StoreUnavailableException)
        {
            return new(null, 503, "Storage unavailable.", "Nothing was reprocessed; try again.");
        }
        await store.AppendAuditAsync(time.GetUtcNow(), adminKeyId, "callbacks.reprocess", id.ToString(CultureInfo.InvariantCulture),
            1, $"outcome {result.Outcome}{(result.EventId is null ? "" : ", event " + result.EventId)}", ct);
        return new(new ReprocessResult(id, result.Outcome, result.EventId));
    }
}
