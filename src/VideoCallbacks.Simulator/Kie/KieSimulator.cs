using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Simulator;

/// <summary>Fake Kie.ai: errors travel in the body <c>code</c> of an HTTP 200, one callback per task, retried on failure.</summary>
internal sealed class KieSimulator(
    SimulatorState state,
    SimulatorBackground background,
    CallbackSender sender,
    IOptions<SimulatorOptions> options,
    TimeProvider time)
{
    public const string Provider = "kie";

    private const int MaxPromptLength = 2000;

    // The codes Kie documents for its envelope; anything else (502, 503, 504) comes from a
    // gateway in front of it, so it is answered as a real HTTP status instead.
    private static readonly HashSet<int> EnvelopeCodes = [400, 401, 402, 404, 422, 429, 455, 500, 501, 505];

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/api/v1/mj/generateVideoExtend", (HttpContext context, KieSimulator kie) => kie.SubmitAsync(context));
        group.MapGet("/api/v1/mj/record-info", (HttpContext context, KieSimulator kie) => kie.RecordInfo(context));
    }

    public Task<IResult> SubmitAsync(HttpContext context) => SubmitPipeline.RunAsync(context, time, new SubmitSteps
    {
        Unauthorized = c => IsAuthorized(c) ? null : Envelope(401, "You do not have access permissions"),
        // Kie answers HTTP 200 with the error code in its envelope.
        Error = Envelope,
        NotAnObject = "Request body must be a JSON object",
        Carrier = body => SimHttp.String(body, "taskId"),
        MissingCarrier = "taskId is required and must be a string",
        InvalidStatus = 422,
        Refuse = Refusal,
        Validate = Validate,
        Accept = Accept,
    });

    private IResult Accept(HttpContext context, JsonObject body, string sourceTaskId, Directives directives)
    {
        var taskId = Guid.NewGuid().ToString("N");
        var task = new SimulatedTask(
            Provider,
            taskId,
            SimHttp.String(body, "taskType")!,
            sourceTaskId,
            body["index"]!.GetValue<int>(),
            SimHttp.String(body, "prompt"),
            model: null,
            SimHttp.String(body, "callBackUrl"),
            webhookSecret: null,
            SimHttp.Body(context),
            directives,
            [.. Enumerable.Range(0, 4).Select(n => SimHttp.ResultUrl(options.Value, taskId, n, directives))],
            SimulatedTaskStatus.Processing,
            time.GetUtcNow());
        state.Add(task);
        background.Run($"kie task {taskId}", ct => RunAsync(task, ct));
        return SimHttp.Json(new KieEnvelope(200, "success", new KieTaskRef(taskId)));
    }

    public IResult RecordInfo(HttpContext context)
    {
        if (!IsAuthorized(context))
        {
            return Envelope(401, "You do not have access permissions");
        }

        var taskId = context.Request.Query["taskId"].ToString();
        if (string.IsNullOrEmpty(taskId))
        {
            return Envelope(422, "taskId is required");
        }

        var task = state.FindTask(taskId);
        if (task is null || task.Provider != Provider)
        {
            return Envelope(404, "Task not found");
        }

        task.NextStatusPoll();
        var directives = task.DirectiveSet;
        var status = task.Status;
        var data = new JsonObject
        {
            ["taskId"] = task.TaskId,
            ["taskType"] = task.TaskType,
            ["paramJson"] = task.RequestBody,
            ["successFlag"] = status switch
            {
                SimulatedTaskStatus.Completed => 1,
                // 2 and 3 are both final failures; 3 ("generation failed") is what an extend usually reports.
                SimulatedTaskStatus.Failed => directives.GetInt("failflag", 3),
                _ => 0,
            },
            ["resultInfoJson"] = status == SimulatedTaskStatus.Completed
                ? new JsonObject
                {
                    ["resultUrls"] = new JsonArray([.. task.ResultUrls.Select(url => (JsonNode)new JsonObject { ["resultUrl"] = url })]),
                }
                : null,
            ["errorCode"] = status == SimulatedTaskStatus.Failed ? directives.GetInt("failcode", 501) : null,
            ["errorMessage"] = status == SimulatedTaskStatus.Failed ? task.Error : null,
            ["createTime"] = SimHttp.Iso(task.CreatedAt),
            ["completeTime"] = task.CompletedAt is { } completed ? SimHttp.Iso(completed) : null,
        };
        return SimHttp.Json(new JsonObject { ["code"] = 200, ["msg"] = "success", ["data"] = data });
    }

    /// <summary>Kie's signature: base64(HMAC-SHA256 keyed with the webhook key over <c>taskId + "." + timestamp</c>).</summary>
    public static string Sign(string key, string taskId, long timestamp) =>
        Convert.ToBase64String(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(key),
            Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{taskId}.{timestamp}"))));

    private async Task RunAsync(SimulatedTask task, CancellationToken cancellationToken)
    {
        var directives = task.DirectiveSet;
        await Task.Delay(options.Value.CallbackDelay, time, cancellationToken);
        var (finished, failed) = task.Finish(time.GetUtcNow());
        if (!finished)
        {
            return;
        }

        if (task.CallbackUrl is null)
        {
            return;
        }

        var final = Callback(task, success: !failed);
        task.LastCallback = final;
        if (directives.Has("nocallback"))
        {
            return;
        }

        await sender.DeliverFinalAsync(task, final, cancellationToken);
        if (directives.Has("late"))
        {
            // A second, contradicting callback: the receiver must keep the first final state.
            var late = Callback(task, success: failed);
            task.LastCallback = late;
            await sender.DeliverAsync(task, late, cancellationToken);
        }
    }

    private OutgoingCallback Callback(SimulatedTask task, bool success)
    {
        var directives = task.DirectiveSet;
        var promptJson = JsonSerializer.Serialize(new KiePrompt(task.Prompt ?? ""), SimHttp.JsonOptions);
        var body = success
            ? new KieCallback(200, "success", new KieCallbackData(task.TaskId, promptJson, task.PlannedResultUrls))
            : new KieCallback(
                directives.GetInt("failcode", 501),
                task.Error ?? directives.ValueOr("fail", SimulatedTask.DefaultFailure),
                new KieCallbackData(task.TaskId, promptJson, []));
        return new OutgoingCallback(
            task.CallbackUrl!,
            JsonSerializer.Serialize(body, SimHttp.JsonOptions),
            () => SignatureHeaders(task),
            RetryOnFailure: true);
    }

    private Dictionary<string, string> SignatureHeaders(SimulatedTask task)
    {
        var key = options.Value.KieWebhookHmacKey;
        var directives = task.DirectiveSet;
        var wrong = directives.Has("wrongsecret");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(key) && !wrong)
        {
            return headers;
        }

        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        if (directives.Has("stale"))
        {
            // Validly signed but outside any sane tolerance window.
            timestamp -= 3600;
        }

        var signingKey = wrong ? (key ?? "") + "-not-the-key" : key!;
        headers["X-Webhook-Timestamp"] = timestamp.ToString(CultureInfo.InvariantCulture);
        headers["X-Webhook-Signature"] = Sign(signingKey, task.TaskId, timestamp);
        return headers;
    }

    private bool IsAuthorized(HttpContext context) =>
        string.Equals(context.Request.Headers.Authorization.ToString(), "Bearer " + options.Value.KieApiKey, StringComparison.Ordinal);

    private static IResult Refusal(int code, Directives directives)
    {
        if (!EnvelopeCodes.Contains(code))
        {
            return TypedResults.Text(
                string.Create(CultureInfo.InvariantCulture, $"<html><body><h1>{code}</h1>simulated gateway error</body></html>"),
                "text/html",
                statusCode: code);
        }

        var message = directives.ValueOr("msg", code switch
        {
            400 => "Invalid request parameters",
            401 => "You do not have access permissions",
            402 => "Credits insufficient",
            404 => "Not found",
            422 => "The request parameters failed validation (simulated)",
            429 => "Rate limited: too many requests, please try again later",
            455 => "Service unavailable: system maintenance",
            501 => "Generation failed",
            505 => "Feature disabled",
            _ => "Server error (simulated)",
        });
        return Envelope(code, message);
    }

    private static string? Validate(JsonObject body)
    {
        var taskType = SimHttp.String(body, "taskType");
        if (taskType is not ("mj_video_extend_manual" or "mj_video_extend_auto"))
        {
            return "taskType must be mj_video_extend_manual or mj_video_extend_auto";
        }

        if (!SimHttp.TryInteger(body, "index", out var index))
        {
            return "index is required and must be an integer";
        }

        if (index is < 0 or > 3)
        {
            return "index must be between 0 and 3";
        }

        if (!SimHttp.IsMissing(body, "prompt") && SimHttp.String(body, "prompt") is null)
        {
            return "prompt must be a string";
        }

        var prompt = SimHttp.String(body, "prompt");
        if (taskType == "mj_video_extend_manual" && string.IsNullOrWhiteSpace(prompt))
        {
            return "prompt is required for mj_video_extend_manual";
        }

        if (prompt is { Length: > MaxPromptLength })
        {
            return "prompt must be at most 2000 characters";
        }

        if (!SimHttp.IsMissing(body, "waterMark") && SimHttp.String(body, "waterMark") is null)
        {
            return "waterMark must be a string";
        }

        if (!SimHttp.IsMissing(body, "callBackUrl") && !SimHttp.IsAbsoluteHttpUrl(SimHttp.String(body, "callBackUrl")))
        {
            return "callBackUrl must be an absolute http(s) URL";
        }

        return null;
    }

    private static IResult Envelope(int code, string message) => SimHttp.Json(new KieEnvelope(code, message, null));
}

internal sealed record KieEnvelope(
    int Code,
    string Msg,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Data);

internal sealed record KieTaskRef(string TaskId);

internal sealed record KieCallback(int Code, string Msg, KieCallbackData Data);

internal sealed record KieCallbackData(string TaskId, string PromptJson, IReadOnlyList<string> ResultUrls);

internal sealed record KiePrompt(string Prompt);
