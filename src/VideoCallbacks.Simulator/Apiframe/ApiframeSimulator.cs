using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Simulator;

/// <summary>Fake Apiframe: real HTTP statuses, progress and final documents posted to the webhook with the shared secret.</summary>
internal sealed class ApiframeSimulator(
    SimulatorState state,
    SimulatorBackground background,
    CallbackSender sender,
    IOptions<SimulatorOptions> options,
    TimeProvider time)
{
    public const string Provider = "apiframe";
    public const string TaskType = "imagine-video-extend";

    private static readonly int[] DefaultProgress = [20, 60];

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/imagine-video-extend", (HttpContext context, ApiframeSimulator apiframe) => apiframe.SubmitAsync(context));
        group.MapPost("/fetch", (HttpContext context, ApiframeSimulator apiframe) => apiframe.Fetch(context));
        group.MapPost("/fetch-many", (HttpContext context, ApiframeSimulator apiframe) => apiframe.FetchMany(context));
    }

    public Task<IResult> SubmitAsync(HttpContext context) => SubmitPipeline.RunAsync(context, time, new SubmitSteps
    {
        Unauthorized = c => IsAuthorized(c) ? null : Empty(StatusCodes.Status401Unauthorized),
        Error = (status, message) => SimHttp.Json(new ApiframeErrors([new ApiframeError(message)]), status),
        NotAnObject = "Invalid request: body must be a JSON object",
        Carrier = body => SimHttp.String(body, "parent_task_id"),
        MissingCarrier = "parent_task_id is required and must be a string",
        Refuse = (code, directives) => code is 400 or 422
            ? SimHttp.Json(new ApiframeErrors([new ApiframeError(directives.ValueOr("msg", "Invalid request (simulated)"))]), code)
            : Empty(code),
        Validate = Validate,
        Accept = Accept,
    });

    private IResult Accept(HttpContext context, JsonObject body, string parentTaskId, Directives directives)
    {
        var taskId = Guid.NewGuid().ToString("D");
        var task = new SimulatedTask(
            Provider,
            taskId,
            TaskType,
            parentTaskId,
            int.Parse(SimHttp.String(body, "index")!, CultureInfo.InvariantCulture),
            SimHttp.String(body, "prompt"),
            model: null,
            SimHttp.String(body, "webhook_url"),
            SimHttp.String(body, "webhook_secret"),
            SimHttp.Body(context),
            directives,
            [.. Enumerable.Range(1, 4).Select(n => SimHttp.ResultUrl(options.Value, taskId, n, directives))],
            SimulatedTaskStatus.Queued,
            time.GetUtcNow());
        state.Add(task);
        background.Run($"apiframe task {taskId}", ct => RunAsync(task, ct));
        return SimHttp.Json(new ApiframeSubmitted(taskId));
    }

    public IResult Fetch(HttpContext context)
    {
        if (!IsAuthorized(context))
        {
            return Empty(StatusCodes.Status401Unauthorized);
        }

        var body = SimHttp.ParseObject(SimHttp.Body(context));
        var taskId = body is null ? null : SimHttp.String(body, "task_id");
        if (string.IsNullOrEmpty(taskId))
        {
            return BadRequest("task_id is required");
        }

        var task = Find(taskId);
        if (task is null)
        {
            return SimHttp.Json(new ApiframeErrors([new ApiframeError("Task not found")]), StatusCodes.Status404NotFound);
        }

        task.NextStatusPoll();
        return SimHttp.Json(Document(task));
    }

    public IResult FetchMany(HttpContext context)
    {
        if (!IsAuthorized(context))
        {
            return Empty(StatusCodes.Status401Unauthorized);
        }

        var body = SimHttp.ParseObject(SimHttp.Body(context));
        if (body?["task_ids"] is not JsonArray ids
            || ids.Count is < 2 or > 20
            || ids.Any(id => id?.GetValueKind() != JsonValueKind.String))
        {
            return BadRequest("task_ids must be an array of 2 to 20 task ids");
        }

        // Unknown ids are left out rather than failing the whole batch.
        var documents = new JsonArray();
        foreach (var id in ids)
        {
            if (Find(id!.GetValue<string>()) is { } task)
            {
                task.NextStatusPoll();
                documents.Add(Document(task));
            }
        }

        return SimHttp.Json(new JsonObject { ["tasks"] = documents });
    }

    /// <summary>The task document, as <c>/fetch</c> returns it and the webhook receives it.</summary>
    private static JsonObject Document(SimulatedTask task)
    {
        var document = new JsonObject { ["task_id"] = task.TaskId, ["task_type"] = TaskType };
        switch (task.Status)
        {
            case SimulatedTaskStatus.Queued:
                document["status"] = "pending";
                break;
            case SimulatedTaskStatus.Processing:
                document["status"] = "processing";
                document["percentage"] = (task.Percentage ?? 0).ToString(CultureInfo.InvariantCulture);
                break;
            case SimulatedTaskStatus.Completed:
                // Documented shape has no status at all; ~finished adds status and a *numeric* percentage.
                if (task.DirectiveSet.Has("finished"))
                {
                    document["status"] = "finished";
                    document["percentage"] = 100;
                }

                document["video_urls"] = new JsonArray([.. task.ResultUrls.Select(url => (JsonNode)url)]);
                break;
            case SimulatedTaskStatus.Failed:
                document["status"] = "failed";
                document["message"] = task.Error;
                break;
        }

        return document;
    }

    private async Task RunAsync(SimulatedTask task, CancellationToken cancellationToken)
    {
        var directives = task.DirectiveSet;
        var send = task.CallbackUrl is not null && !directives.Has("nocallback");
        var progress = ProgressSteps(directives);
        var wait = options.Value.CallbackDelay;
        foreach (var percentage in progress)
        {
            await Task.Delay(wait, time, cancellationToken);
            wait = options.Value.ProgressInterval;
            task.Advance(SimulatedTaskStatus.Processing, percentage, time.GetUtcNow());
            if (task.CallbackUrl is not null)
            {
                var update = Callback(task, Document(task));
                task.LastCallback = update;
                if (send)
                {
                    await sender.DeliverAsync(task, update, cancellationToken);
                }
            }
        }

        await Task.Delay(wait, time, cancellationToken);
        var (finished, failed) = task.Finish(time.GetUtcNow());
        if (!finished)
        {
            return;
        }

        if (task.CallbackUrl is null)
        {
            return;
        }

        var final = Callback(task, Document(task));
        task.LastCallback = final;
        if (!send)
        {
            return;
        }

        await sender.DeliverFinalAsync(task, final, cancellationToken);
        if (directives.Has("late"))
        {
            // Apiframe posts "the final result and updates": an update may trail the result.
            var late = Callback(task, new JsonObject
            {
                ["task_id"] = task.TaskId,
                ["task_type"] = TaskType,
                ["status"] = "processing",
                ["percentage"] = "90",
            });
            task.LastCallback = late;
            await sender.DeliverAsync(task, late, cancellationToken);
        }
    }

    /// <summary>Percentages of the progress updates: 20 and 60, or <c>~progress=n</c> evenly spaced ones.</summary>
    private static int[] ProgressSteps(Directives directives)
    {
        var count = directives.GetInt("progress", -1);
        return count < 0
            ? DefaultProgress
            : [.. Enumerable.Range(1, Math.Min(count, 99)).Select(i => i * 100 / (count + 1))];
    }

    private static OutgoingCallback Callback(SimulatedTask task, JsonObject document) =>
        new(task.CallbackUrl!, document.ToJsonString(SimHttp.JsonOptions), () => SecretHeader(task), RetryOnFailure: false);

    private static Dictionary<string, string> SecretHeader(SimulatedTask task)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (task.DirectiveSet.Has("wrongsecret"))
        {
            headers["x-webhook-secret"] = (task.WebhookSecret ?? "") + "-not-the-secret";
        }
        else if (task.WebhookSecret is not null)
        {
            headers["x-webhook-secret"] = task.WebhookSecret;
        }

        return headers;
    }

    private SimulatedTask? Find(string taskId) =>
        state.FindTask(taskId) is { Provider: Provider } task ? task : null;

    private bool IsAuthorized(HttpContext context) =>
        string.Equals(context.Request.Headers.Authorization.ToString(), options.Value.ApiframeApiKey, StringComparison.Ordinal);

    private static string? Validate(JsonObject body)
    {
        // The documented type is a string; a JSON number is refused like the real API does.
        if (SimHttp.Kind(body, "index") != JsonValueKind.String)
        {
            return "index is required and must be a string: \"1\", \"2\", \"3\" or \"4\"";
        }

        if (SimHttp.String(body, "index") is not ("1" or "2" or "3" or "4"))
        {
            return "index must be one of \"1\", \"2\", \"3\", \"4\"";
        }

        if (string.IsNullOrWhiteSpace(SimHttp.String(body, "prompt")))
        {
            return "prompt is required and must be a string";
        }

        if (!SimHttp.IsMissing(body, "image_url") && !SimHttp.IsAbsoluteHttpUrl(SimHttp.String(body, "image_url")))
        {
            return "image_url must be an absolute http(s) URL";
        }

        if (!SimHttp.IsMissing(body, "motion") && SimHttp.String(body, "motion") is not ("low" or "high"))
        {
            return "motion must be \"low\" or \"high\"";
        }

        if (!SimHttp.IsMissing(body, "webhook_url") && !SimHttp.IsAbsoluteHttpUrl(SimHttp.String(body, "webhook_url")))
        {
            return "webhook_url must be an absolute http(s) URL";
        }

        if (!SimHttp.IsMissing(body, "webhook_secret") && SimHttp.String(body, "webhook_secret") is null)
        {
            return "webhook_secret must be a string";
        }

        return null;
    }

    private static IResult BadRequest(string message) =>
        SimHttp.Json(new ApiframeErrors([new ApiframeError(message)]), StatusCodes.Status400BadRequest);

    private static IResult Empty(int statusCode) => SimHttp.Json(new JsonObject(), statusCode);
}

internal sealed record ApiframeSubmitted([property: JsonPropertyName("task_id")] string TaskId);

internal sealed record ApiframeErrors(IReadOnlyList<ApiframeError> Errors);

internal sealed record ApiframeError(string Msg);
