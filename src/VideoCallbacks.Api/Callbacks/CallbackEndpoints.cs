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
    public static IServiceCollection AddCallbacks(this IServiceCollection services, IConfiguration configuration)
    {
        // Whether PublicBaseUrl may be left out depends on the sandbox, read when the options are built, so the
        // order in which features are added does not matter.
        services.AddValidatedOptions<CallbackOptions>(configuration, CallbackOptions.Section)
            .Configure<IOptions<SandboxOptions>>((o, sandbox) => o.SandboxEnabled = sandbox.Value.Enabled);
        services.AddSingleton<IngestStore>();
        services.AddSingleton<CallbackVerifier>();
        services.AddSingleton<CallbackReceiver>();
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
            .WithSummary("Provider callbacks, for each registered provider that calls back. The URL is handed to the provider at submit time.");
        return group;
    }

    private static async Task<Results<Ok<CallbackAck>, UnauthorizedHttpResult, NotFound, ProblemHttpResult>> Receive(
        string provider, string jobId, string token, HttpRequest http, CallbackReceiver receiver, IOptions<CallbackOptions> options, CancellationToken ct)
    {
        if (!receiver.TakesCallbacks(provider)) return TypedResults.NotFound();
        byte[] body;
        try
        {
            body = await LimitedBody.ReadAsync(http, options.Value.MaxBodyBytes, ct);
        }
        catch (LimitedBody.TooLargeException e)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, "Callback body too large.", e.Message);
        }
        var receipt = await receiver.ReceiveAsync(new CallbackRequest(provider, jobId, token, http.Headers, body), ct);
        return receipt.Kind switch
        {
            // No detail: a forger learns nothing about which check failed.
            ReceiptKind.Refused => TypedResults.Unauthorized(),
            ReceiptKind.StoreUnavailable => Unavailable(),
            // Verified but not understood: kept for operators to reprocess; 200 so the provider stops resending the same bytes.
            _ => TypedResults.Ok(new CallbackAck(true, receipt.Outcome!)),
        };
    }

    private static ProblemHttpResult Unavailable() =>
        Problems.Status(StatusCodes.Status503ServiceUnavailable, "Storage unavailable.",
            "The callback was not stored; nothing was processed. Please retry.",
            new Dictionary<string, object?> { ["retryable"] = true });
}
