using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Callbacks;

public sealed record CallbackAck(bool Received, string Outcome);

public static class CallbackEndpoints
{
    /// <summary>Headers worth keeping with a stored callback; secrets are never among them.</summary>
    private static readonly string[] KeptHeaders = ["Content-Type", "User-Agent", CallbackVerifier.KieTimestampHeader, CallbackVerifier.KieSignatureHeader, "X-Forwarded-For"];

    public static IServiceCollection AddCallbacks(this IServiceCollection services, IConfiguration configuration)
    {
        // Whether PublicBaseUrl may be left out depends on the sandbox, read when the options are built, so the
        // order in which features are added does not matter.
        services.AddValidatedOptions<CallbackOptions>(configuration, CallbackOptions.Section)
            .Configure<IOptions<SandboxOptions>>((o, sandbox) => o.SandboxEnabled = sandbox.Value.Enabled);
        services.AddSingleton<IngestStore>();
        services.AddSingleton<CallbackVerifier>();
        services.AddSingleton<RejectionRecorder>();
        services.AddSingleton<IngestWriter>();
        services.AddSingleton<JobCredentialCache>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestWriter>());
        return services;
    }

    public static RouteGroupBuilder MapCallbacks(this IEndpointRouteBuilder app)
    {
        // Providers cannot send our API keys: the per-job token in the URL (plus each provider's own proof) authenticates them.
        var group = app.MapGroup("/v1/callbacks").WithTags("Callbacks").AllowAnonymous().RequireRateLimiting(RateLimits.CallbackPolicy);
        group.MapPost("/{provider}/{jobId}/{token}", Receive)
            .WithSummary("Provider callbacks (Kie.ai, Apiframe). The URL is handed to the provider at submit time.");
        return group;
    }

    private static async Task<Results<Ok<CallbackAck>, UnauthorizedHttpResult, NotFound, ProblemHttpResult>> Receive(
        string provider, string jobId, string token, HttpRequest http,
        JobCredentialCache credentials, CallbackVerifier verifier, IngestWriter writer, RejectionRecorder rejections,
        IOptions<CallbackOptions> options, TimeProvider time, Telemetry telemetry, CancellationToken ct)
    {
        if (provider is not (ProviderNames.Kie or ProviderNames.Apiframe)) return TypedResults.NotFound();
        var receivedAt = time.GetUtcNow();

        byte[] bytes;
        try
        {
            bytes = await LimitedBody.ReadAsync(http, options.Value.MaxBodyBytes, ct);
        }
        catch (LimitedBody.TooLargeException e)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, "Callback body too large.", e.Message);
        }
        // Invalid UTF-8 becomes U+FFFD here, and so does U+0000, which PostgreSQL cannot store: a verified callback
        // carrying one would otherwise be answered 503 on every retry. Receipt and reprocessing read the same text.
        var body = StorableText.Clean(Encoding.UTF8.GetString(bytes));
        var raw = new RawCallback(HeadersJson(http.Headers), body, receivedAt);
        var read = CallbackBody.Read(provider, body);

        JobCredentials? job;
        try
        {
            job = jobId.Length <= 64 && token.Length <= 128 ? await credentials.GetAsync(jobId, ct) : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Unavailable();
        }

        string? reason;
        using (var verifying = Telemetry.Source.StartActivity("callback.verify"))
        {
            verifying?.SetTag("videocallbacks.provider", provider);
            verifying?.SetTag("videocallbacks.job_id", job?.JobId);
            reason = verifier.Verify(provider, job, token, http.Headers, read.TaskId);
            verifying?.SetTag("videocallbacks.verified", reason is null);
        }
        if (reason is not null)
        {
            telemetry.Callback(provider, job is null ? CallbackOutcomes.Unmatched : CallbackOutcomes.Rejected);
            await rejections.RecordAsync(new RejectedCallback(provider, job?.JobId,
                job is null ? CallbackOutcomes.Unmatched : CallbackOutcomes.Rejected, reason, raw), ct);
            // No detail: a forger learns nothing about which check failed.
            return TypedResults.Unauthorized();
        }

        IngestResult result;
        try
        {
            // Providers give up after 15 s; answer 503 well before that. If the commit lands later anyway,
            // the provider's retry is a harmless duplicate.
            result = await writer.WriteAsync(new IngestItem(provider, job!.JobId, read.TaskId, read.Observation, raw, read.Problem), ct)
                .WaitAsync(options.Value.CommitTimeout, time, ct);
        }
        catch (Exception e) when (e is StoreUnavailableException or OperationCanceledException or TimeoutException)
        {
            return Unavailable();
        }
        telemetry.Callback(provider, result.Outcome);
        // The writer saw a task id the job had bound meanwhile (a race the verifier could not see): stored as rejected.
        if (result.Outcome == CallbackOutcomes.Rejected) return TypedResults.Unauthorized();
        // Verified but not understood: kept for operators to reprocess; 200 so the provider stops resending the same bytes.
        return TypedResults.Ok(new CallbackAck(true, result.Outcome));
    }

    private static ProblemHttpResult Unavailable() =>
        Problems.Status(StatusCodes.Status503ServiceUnavailable, "Storage unavailable.",
            "The callback was not stored; nothing was processed. Please retry.",
            new Dictionary<string, object?> { ["retryable"] = true });

    private static string HeadersJson(IHeaderDictionary headers) =>
        JsonSerializer.Serialize(KeptHeaders
            .Where(h => headers.ContainsKey(h))
            .ToDictionary(h => h, h => headers[h].ToString()));
}
