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

    public async Task<IResult> ExtendAsync(HttpContext context)
    {
        if (Unauthorized(context) is { } unauthorized)
        {
            return unauthorized;
        }

        var body = SimHttp.ParseObject(SimHttp.Body(context));
        if (body is null)
        {
            return Error(StatusCodes.Status400BadRequest, "Request body must be a JSON object");
        }

        var sourceTaskId = SimHttp.String(body, "runId") ?? SimHttp.String(body, "taskId");
        if (string.IsNullOrWhiteSpace(sourceTaskId))
        {
            return Error(StatusCodes.Status400BadRequest, "runId (or taskId) is required");
        }

        var directives = Directives.Parse(sourceTaskId);
        if (await RefuseAsync(context, directives) is { } refusal)
        {
            return refusal;
        }

        if (RefusedByExtend.FirstOrDefault(field => !SimHttp.IsMissing(body, field)) is { } refused)
        {
            return Error(StatusCodes.Status400BadRequest, $"This endpoint does not accept {refused}; use POST /api/generate-video to extend a source video");
        }

        if (!SimHttp.TryInteger(body, "index", out var index) || index is < 0 or > 3)
        {
            return Error(StatusCodes.Status400BadRequest, "index is required and must be an integer from 0 to 3");
        }

        var task = Accept(context, "extend", sourceTaskId, index, prompt: null, MidjourneyModel, directives);
        return SimHttp.Json(new NanoGptSubmitted(
            true, task.TaskId, task.TaskId, task.TaskId, "pending", MidjourneyModel, Cost,
            string.Create(CultureInfo.InvariantCulture, $"Extending video {index + 1} by 5 seconds..."), 60));
    }

    public async Task<IResult> GenerateAsync(HttpContext context)
    {
        if (Unauthorized(context) is { } unauthorized)
        {
            return unauthorized;
        }

        var body = SimHttp.ParseObject(SimHttp.Body(context));
        if (body is null)
        {
            return Error(StatusCodes.Status400BadRequest, "Request body must be a JSON object");
        }

        var prompt = SimHttp.String(body, "prompt");
        if (string.IsNullOrWhiteSpace(prompt))
        {
            return Error(StatusCodes.Status400BadRequest, "prompt is required");
        }

        // No source task id here, so the directives ride in the prompt.
        var directives = Directives.Parse(prompt);
        if (await RefuseAsync(context, directives) is { } refusal)
        {
            return refusal;
        }

        var model = SimHttp.String(body, "model");
        if (string.IsNullOrWhiteSpace(model))
        {
            return Error(StatusCodes.Status400BadRequest, "model is required");
        }

        if (SourceVideoFields.All(field => SimHttp.IsMissing(body, field)))
        {
            return Error(StatusCodes.Status400BadRequest, "A source video is required: videoUrl, videoDataUrl or videoAttachmentId");
        }

        if (!SimHttp.IsMissing(body, "videoUrl") && !SimHttp.IsAbsoluteHttpUrl(SimHttp.String(body, "videoUrl"), requireHttps: true))
        {
            return Error(StatusCodes.Status400BadRequest, "videoUrl must be an absolute https URL");
        }

        var task = Accept(context, "generate-video", "", index: null, prompt, model, directives);
        return SimHttp.Json(new NanoGptSubmitted(true, task.TaskId, task.TaskId, task.TaskId, "pending", model, Cost, "Video generation started", 60));
    }

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
            [SimHttp.ResultUrl(taskId, 0)],
            SimulatedTaskStatus.Queued,
            time.GetUtcNow());
        state.Add(task);
        return task;
    }

    /// <summary>Applies <c>~slow</c>, <c>~abort</c> and <c>~status</c>; null means go on.</summary>
    private async Task<IResult?> RefuseAsync(HttpContext context, Directives directives)
    {
        await SimHttp.DelayAsync(directives, time, context.RequestAborted);
        if (directives.Has("abort"))
        {
            return SimHttp.Abort(context);
        }

        var code = directives.GetInt("status", 200);
        if (code is 200 or < 100 or > 599)
        {
            return null;
        }

        SimHttp.ApplyRetryAfter(context, directives);
        return Error(code, directives.ValueOr("msg", code switch
        {
            400 or 422 => "Invalid request (simulated)",
            402 => "Insufficient balance",
            403 => "You do not own this job",
            429 => "Rate limit exceeded, please slow down",
            _ => "Internal server error (simulated)",
        }));
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
