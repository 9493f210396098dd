using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Simulator;

/// <summary>
/// Fake NanoGPT: no webhooks, so progress is driven by status polls, one step per call. That keeps
/// tests deterministic without any timing.
/// </summary>
internal sealed class NanoGptSimulator(SimulatorState state, IOptions<SimulatorOptions> options, TimeProvider time)
{
    public const string Provider = "nanogpt";
    public const string MidjourneyModel = "midjourney-video";

    private const string DefaultFailure = "Video generation failed (simulated)";
    private const decimal Cost = 0.1m;
    private const int DefaultSteps = 2;
    private static readonly string[] SourceVideoFields = ["videoUrl", "videoDataUrl", "videoAttachmentId"];
    private static readonly string[] RefusedByExtend = ["video", .. SourceVideoFields];

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/api/generate-video/extend", (HttpContext context, NanoGptSimulator nano) => nano.ExtendAsync(context));
        group.MapPost("/api/generate-video", (HttpContext context, NanoGptSimulator nano) => nano.GenerateAsync(context));
        group.MapGet("/api/video/status", (HttpContext context, NanoGptSimulator nano) => nano.Status(context));
    }

    public Task<IResult> ExtendAsync(HttpContext context) => SubmitPipeline.RunAsync(context, time, Steps with
    {
        Carrier = body => SimHttp.String(body, "runId") ?? SimHttp.String(body, "taskId"),
        MissingCarrier = "runId (or taskId) is required",
        Validate = body =>
        {
            if (RefusedByExtend.FirstOrDefault(field => !SimHttp.IsMissing(body, field)) is { } refused)
            {
                return $"This endpoint does not accept {refused}; use POST /api/generate-video to extend a source video";
            }

            return SimHttp.TryInteger(body, "index", out var index) && index is >= 0 and <= 3
                ? null
                : "index is required and must be an integer from 0 to 3";
        },
        Accept = (context, body, sourceTaskId, directives) =>
        {
            SimHttp.TryInteger(body, "index", out var index);
            var task = Accept(context, "extend", sourceTaskId, index, prompt: null, MidjourneyModel, directives);
            return SimHttp.Json(new NanoGptSubmitted(
                true, task.TaskId, task.TaskId, task.TaskId, "pending", MidjourneyModel, Cost,
                string.Create(CultureInfo.InvariantCulture, $"Extending video {index + 1} by 5 seconds..."), 60));
        },
    });

    public Task<IResult> GenerateAsync(HttpContext context) => SubmitPipeline.RunAsync(context, time, Steps with
    {
        // No source task id here, so the directives ride in the prompt.
        Carrier = body => SimHttp.String(body, "prompt"),
        MissingCarrier = "prompt is required",
        Validate = body =>
        {
            if (string.IsNullOrWhiteSpace(SimHttp.String(body, "model")))
            {
                return "model is required";
            }

            if (SourceVideoFields.All(field => SimHttp.IsMissing(body, field)))
            {
                return "A source video is required: videoUrl, videoDataUrl or videoAttachmentId";
            }

            return !SimHttp.IsMissing(body, "videoUrl") && !SimHttp.IsAbsoluteHttpUrl(SimHttp.String(body, "videoUrl"), requireHttps: true)
                ? "videoUrl must be an absolute https URL"
                : null;
        },
        Accept = (context, body, prompt, directives) =>
        {
            var model = SimHttp.String(body, "model")!;
            var task = Accept(context, "generate-video", "", index: null, prompt, model, directives);
            return SimHttp.Json(new NanoGptSubmitted(true, task.TaskId, task.TaskId, task.TaskId, "pending", model, Cost, "Video generation started", 60));
        },
    });

    /// <summary>What both NanoGPT submit endpoints share; each sets its own carrier, rules and answer.</summary>
    private SubmitSteps Steps => new()
    {
        Unauthorized = Unauthorized,
        Error = Error,
        NotAnObject = "Request body must be a JSON object",
        Carrier = _ => null,
        MissingCarrier = "",
        Refuse = (code, directives) => Error(code, directives.ValueOr("msg", code switch
        {
            400 or 422 => "Invalid request (simulated)",
            402 => "Insufficient balance",
            403 => "You do not own this job",
            429 => "Rate limit exceeded, please slow down",
            _ => "Internal server error (simulated)",
        })),
        Validate = _ => null,
        Accept = (_, _, _, _) => throw new InvalidOperationException("Each endpoint sets its own Accept."),
    };

    public IResult Status(HttpContext context)
    {
        if (Unauthorized(context) is { } unauthorized)
        {
            return unauthorized;
        }

        var query = context.Request.Query;
        var runId = query["requestId"].ToString() is { Length: > 0 } requestId ? requestId : query["runId"].ToString();
        if (string.IsNullOrEmpty(runId))
        {
            return Error(StatusCodes.Status400BadRequest, "requestId is required");
        }

        if (state.FindTask(runId) is not { Provider: Provider } task)
        {
            return Error(StatusCodes.Status404NotFound, "Video request not found");
        }

        Step(task);
        var status = task.Status;
        var videoUrl = status == SimulatedTaskStatus.Completed ? task.ResultUrls[0] : null;
        var error = status == SimulatedTaskStatus.Failed ? task.Error : null;
        if (string.Equals(task.DirectiveSet.Get("shape"), "b", StringComparison.OrdinalIgnoreCase))
        {
            return SimHttp.Json(new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["status"] = status switch
                    {
                        SimulatedTaskStatus.Queued => "IN_QUEUE",
                        SimulatedTaskStatus.Processing => "IN_PROGRESS",
                        SimulatedTaskStatus.Completed => "COMPLETED",
                        _ => "FAILED",
                    },
                    ["request_id"] = task.TaskId,
                    ["output"] = videoUrl is null ? null : new JsonObject { ["video"] = new JsonObject { ["url"] = videoUrl } },
                    ["error"] = error,
                },
            });
        }

        var document = new JsonObject
        {
            ["requestId"] = task.TaskId,
            ["status"] = status switch
            {
                SimulatedTaskStatus.Queued => "queued",
                SimulatedTaskStatus.Processing => "processing",
                SimulatedTaskStatus.Completed => "completed",
                _ => "failed",
            },
            ["videoUrl"] = videoUrl,
            ["error"] = error,
            ["progress"] = task.Percentage ?? 0,
        };
        if (error is not null)
        {
            document["userFriendlyError"] = error;
        }

        return SimHttp.Json(document);
    }

    /// <summary>
    /// Advances one step per status call: <c>~steps</c> non-terminal answers (the first queued, the
    /// rest processing), then completed or failed, or processing forever under <c>~never</c>.
    /// </summary>
    private void Step(SimulatedTask task)
    {
        var directives = task.DirectiveSet;
        var steps = Math.Max(0, directives.GetInt("steps", DefaultSteps));
        var poll = task.NextStatusPoll();
        var now = time.GetUtcNow();
        if (poll <= steps || directives.Has("never"))
        {
            var percentage = poll == 1 ? 0 : Math.Min(95, (poll - 1) * 100 / (steps + 1));
            task.Advance(poll == 1 ? SimulatedTaskStatus.Queued : SimulatedTaskStatus.Processing, percentage, now);
            return;
        }

        var failed = directives.Has("fail");
        task.Advance(
            failed ? SimulatedTaskStatus.Failed : SimulatedTaskStatus.Completed,
            failed ? null : 100,
            now,
            failed ? directives.ValueOr("fail", DefaultFailure) : null);
    }

    private SimulatedTask Accept(HttpContext context, string taskType, string sourceTaskId, int? index, string? prompt, string model, Directives directives)
    {
        var taskId = "vid_" + Guid.NewGuid().ToString("N")[..20];
        var task = new SimulatedTask(
            Provider,
            taskId,
            taskType,
            sourceTaskId,
            index,
            prompt,
            model,
            callbackUrl: null,
            webhookSecret: null,
            SimHttp.Body(context),
            directives,
            [SimHttp.ResultUrl(options.Value, taskId, 0, directives)],
            SimulatedTaskStatus.Queued,
            time.GetUtcNow());
        state.Add(task);
        return task;
    }

    private IResult? Unauthorized(HttpContext context)
    {
        var key = options.Value.NanoGptApiKey;
        var headers = context.Request.Headers;
        if (string.Equals(headers["x-api-key"].ToString(), key, StringComparison.Ordinal)
            || string.Equals(headers.Authorization.ToString(), "Bearer " + key, StringComparison.Ordinal))
        {
            return null;
        }

        return Error(StatusCodes.Status401Unauthorized, "Invalid or missing API key");
    }

    private static IResult Error(int statusCode, string message) =>
        SimHttp.Json(new NanoGptErrorBody(new NanoGptError(message, statusCode)), statusCode);
}

internal sealed record NanoGptSubmitted(bool Success, string RunId, string Id, string TaskId, string Status, string Model, decimal Cost, string Message, int Eta);

internal sealed record NanoGptErrorBody(NanoGptError Error);

internal sealed record NanoGptError(string Message, int Status);
