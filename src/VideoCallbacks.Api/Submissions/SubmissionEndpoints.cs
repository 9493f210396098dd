using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Submissions;

public static class SubmissionEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxIdempotencyKeyLength = 200;

    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        MaxDepth = 8,
        // "index": "1" is a client mistake (one provider's own format leaking through), not a number.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
    };

    public static IServiceCollection AddSubmissions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<IdempotencyOptions>(configuration, IdempotencyOptions.Section);
        services.AddSingleton<SubmissionStore>();
        // Every validator in this assembly, found by scanning; they hold no state, so one instance each.
        services.AddSingleton<IValidator<ExtensionRequest>, ExtensionRequestValidator>();
        services.AddSingleton<SubmissionService>();
        return services;
    }

    public static RouteGroupBuilder MapSubmissions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/extensions")
            .WithTags("Extensions")
            .RequireAuthorization(ApiKeyDefaults.ClientPolicy)
            .RequireRateLimiting(RateLimits.ClientPolicy);

        group.MapPost("/", Submit)
            .Accepts<ExtensionRequest>("application/json")
            .WithSummary("Submit a Midjourney video extension to one of the registered providers.");
        group.MapGet("/{jobId}", Get).WithName("GetExtension").WithSummary("The job, its state and its events.").ProducesProblem(404);
        return group;
    }

    private static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> Submit(
        HttpRequest http,
        IValidator<ExtensionRequest> validator,
        SubmissionService service,
        CancellationToken ct)
    {
        ExtensionRequest? request;
        try
        {
            var body = await LimitedBody.ReadAsync(http, MaxBodyBytes, ct);
            request = JsonSerializer.Deserialize<ExtensionRequest>(body, RequestJson);
        }
        catch (LimitedBody.TooLargeException e)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large.", e.Message);
        }
        catch (JsonException e)
        {
            var (field, message) = Problems.DescribeJsonError(e, "an extension request");
            return Problems.Validation(field, message);
        }
        if (request is null) return Problems.Validation("body", "Send a JSON object describing the extension.");

        var idempotencyKey = http.Headers["Idempotency-Key"].FirstOrDefault();
        if (idempotencyKey is { Length: 0 or > MaxIdempotencyKeyLength })
        {
            return Problems.Validation("Idempotency-Key", $"The Idempotency-Key header must be 1-{MaxIdempotencyKeyLength} characters.");
        }

        var validation = await validator.ValidateAsync(request, ct);
        if (!validation.IsValid) return Problems.Validation(validation.Errors);

        var user = http.HttpContext.User;
        var result = await service.SubmitAsync(request, user.SubmittingClient(), user.IdempotencyScope(), idempotencyKey, ct);
        switch (result.Outcome)
        {
            case SubmissionOutcome.Conflict:
                return Problems.Status(StatusCodes.Status409Conflict, "Idempotency-Key already used.",
                    "This Idempotency-Key was used with a different request body; use a new key for a new request.");
            case SubmissionOutcome.Refused:
                return Refusal(result, http.HttpContext.Response);
        }
        var events = await service.GetEventsAsync(result.Job.JobId, ct);
        return TypedResults.Accepted($"/v1/extensions/{result.Job.JobId}", JobResponses.From(result.Job, events));
    }

    private static ProblemHttpResult Refusal(SubmissionResult result, HttpResponse response)
    {
        var extensions = new Dictionary<string, object?> { ["jobId"] = result.Job.JobId, ["provider"] = result.Job.Provider };
        if (result.Job.Error?.Code == ErrorCodes.ProviderConflict)
        {
            extensions["code"] = ErrorCodes.ProviderConflict;
            return Problems.Status(StatusCodes.Status502BadGateway, "The provider's answer conflicts with another job.", result.Job.Error.Message, extensions);
        }
        var refusal = result.Refusal!;
        switch (refusal.Outcome)
        {
            case SubmitOutcome.Invalid:
                return Problems.Status(StatusCodes.Status422UnprocessableEntity, "The provider rejected the request.", refusal.Message, extensions);
            case SubmitOutcome.RateLimited:
                var seconds = (int)Math.Ceiling((refusal.RetryAfter ?? TimeSpan.FromSeconds(10)).TotalSeconds);
                extensions["retryAfterSeconds"] = seconds;
                response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Problems.Status(StatusCodes.Status429TooManyRequests, "The provider is rate limiting requests.",
                    $"{refusal.Message} Retry after {seconds} s.", extensions);
            case SubmitOutcome.Timeout:
                // Where to watch the job whose outcome is unknown; an idempotent retry answers the same.
                response.Headers.Location = $"/v1/extensions/{result.Job.JobId}";
                return Problems.Status(StatusCodes.Status504GatewayTimeout, "The provider did not answer in time.",
                    $"{refusal.Message}. The provider may still have accepted the task; it is not resubmitted automatically. " +
                    $"Watch GET /v1/extensions/{result.Job.JobId}: a callback will complete it, or it fails with provider_timeout.", extensions);
            default:
                return Problems.Status(StatusCodes.Status502BadGateway, "The provider is unavailable.", refusal.Message, extensions);
        }
    }

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> Get(string jobId, HttpContext http, SubmissionService service, CancellationToken ct)
    {
        var job = jobId.Length <= 64 ? await service.GetAsync(jobId, ct) : null;
        // Another client's job does not exist for this caller: 404, not 403, so job ids reveal nothing.
        if (job is null || http.User.VisibleClient() is { } client && job.Client != client)
        {
            return Problems.NotFound("No such job.", $"There is no job '{jobId}'.");
        }
        return TypedResults.Ok(JobResponses.From(job, await service.GetEventsAsync(jobId, ct)));
    }
}
