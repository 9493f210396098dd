using System.Text;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>A provider callback as it arrived: the route's parts, the headers and the body's bytes.</summary>
public sealed record CallbackRequest(string Provider, string JobId, string Token, IHeaderDictionary Headers, byte[] Body);

public enum ReceiptKind
{
    /// <summary>Committed (accepted, duplicate or failed to read): the provider may stop sending it.</summary>
    Stored,
    /// <summary>Not verified (or it names a task that belongs elsewhere): recorded for operators, never processed.</summary>
    Refused,
    /// <summary>Nothing was stored; the provider should send it again.</summary>
    StoreUnavailable,
}

public sealed record CallbackReceipt(ReceiptKind Kind, string? Outcome = null);

/// <summary>
/// Receives one callback: verify, then commit before answering. Verified callbacks are never dropped: they are
/// committed (or the provider is told to retry); unverified ones are recorded and go no further.
/// </summary>
public sealed class CallbackReceiver(
    ProviderRegistry providers,
    JobCredentialCache credentials,
    CallbackVerifier verifier,
    IngestWriter writer,
    RejectionRecorder rejections,
    IOptions<CallbackOptions> options,
    TimeProvider time,
    Telemetry telemetry)
{
    /// <summary>Whether <paramref name="provider"/> is a registered provider that calls back (else its callback route does not exist).</summary>
    public bool TakesCallbacks(string provider) => providers.CallbacksOf(provider) is not null;

    public async Task<CallbackReceipt> ReceiveAsync(CallbackRequest request, CancellationToken ct)
    {
        var scheme = providers.CallbacksOf(request.Provider)
            ?? throw new ArgumentException($"{request.Provider} takes no callbacks; ask TakesCallbacks first.", nameof(request));
        var receivedAt = time.GetUtcNow();
        // Invalid UTF-8 becomes U+FFFD here, and so does U+0000, which PostgreSQL cannot store: a verified callback
        // carrying one would otherwise be answered 503 on every retry. Receipt and reprocessing read the same text.
        var body = StorableText.Clean(Encoding.UTF8.GetString(request.Body));
        var read = CallbackBody.Read(scheme, body);

        JobCredentials? job;
        try
        {
            job = request.JobId.Length <= 64 && request.Token.Length <= 128 ? await credentials.GetAsync(request.JobId, ct) : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new CallbackReceipt(ReceiptKind.StoreUnavailable);
        }
        var raw = new RawCallback(CallbackHeaders.Json(request.Headers, scheme.ProofHeaders, job), body, receivedAt);

        string? reason;
        using (var verifying = Telemetry.Source.StartActivity("callback.verify"))
        {
            verifying?.SetTag("videocallbacks.provider", request.Provider);
            verifying?.SetTag("videocallbacks.job_id", job?.JobId);
            reason = verifier.Verify(request.Provider, scheme, job, request.Token, request.Headers, read.TaskId, request.Body);
            verifying?.SetTag("videocallbacks.verified", reason is null);
        }
        if (reason is not null)
        {
            var outcome = job is null ? CallbackOutcomes.Unmatched : CallbackOutcomes.Rejected;
            telemetry.Callback(request.Provider, outcome);
            await rejections.RecordAsync(new RejectedCallback(request.Provider, job?.JobId, outcome, reason, raw), ct);
            return new CallbackReceipt(ReceiptKind.Refused, outcome);
        }

        IngestResult result;
        try
        {
            // Providers give up after 15 s; answer 503 well before that. If the commit lands later anyway,
            // the provider's retry is a harmless duplicate.
            result = await writer.WriteAsync(new IngestItem(request.Provider, job!.JobId, read.TaskId, read.Observation, raw, read.Problem), ct)
                .WaitAsync(options.Value.CommitTimeout, time, ct);
        }
        catch (Exception e) when (e is StoreUnavailableException or OperationCanceledException or TimeoutException)
        {
            return new CallbackReceipt(ReceiptKind.StoreUnavailable);
        }
        telemetry.Callback(request.Provider, result.Outcome);
        // The writer saw a task id the job had bound meanwhile (a race the verifier could not see): stored as rejected.
        return new CallbackReceipt(result.Outcome == CallbackOutcomes.Rejected ? ReceiptKind.Refused : ReceiptKind.Stored, result.Outcome);
    }
}
