using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace VideoCallbacks.Simulator;

/// <summary>How one simulated provider answers at each step of <see cref="SubmitPipeline"/>.</summary>
internal sealed record SubmitSteps
{
    /// <summary>Null when the caller's key is right; else the provider's own 401.</summary>
    public required Func<HttpContext, IResult?> Unauthorized { get; init; }

    /// <summary>The provider's error shape for a status and a message.</summary>
    public required Func<int, string, IResult> Error { get; init; }

    public required string NotAnObject { get; init; }

    /// <summary>The field whose value carries the <c>~directives</c> (the source task id, or NanoGPT's prompt).</summary>
    public required Func<JsonObject, string?> Carrier { get; init; }

    public required string MissingCarrier { get; init; }

    /// <summary>Kie answers 422 for a missing or invalid field where the others answer 400.</summary>
    public int InvalidStatus { get; init; } = StatusCodes.Status400BadRequest;

    /// <summary>The provider's answer to <c>~status=code</c> (Retry-After is already set).</summary>
    public required Func<int, Directives, IResult> Refuse { get; init; }

    /// <summary>The provider's own request rules; null when the request is valid.</summary>
    public required Func<JsonObject, string?> Validate { get; init; }

    /// <summary>Creates the task, starts whatever it does next, and answers the provider's success shape.</summary>
    public required Func<HttpContext, JsonObject, string, Directives, IResult> Accept { get; init; }
}

/// <summary>
/// The one submit path the three simulated providers share: key, body, directives, <c>~slow</c> / <c>~abort</c> /
/// <c>~status</c>, the provider's validation, then the task. Only the answers differ per provider.
/// </summary>
internal static class SubmitPipeline
{
    public static async Task<IResult> RunAsync(HttpContext context, TimeProvider time, SubmitSteps steps)
    {
        if (steps.Unauthorized(context) is { } unauthorized)
        {
            return unauthorized;
        }

        var body = SimHttp.ParseObject(SimHttp.Body(context));
        if (body is null)
        {
            return steps.Error(StatusCodes.Status400BadRequest, steps.NotAnObject);
        }

        var carrier = steps.Carrier(body);
        if (string.IsNullOrWhiteSpace(carrier))
        {
            return steps.Error(steps.InvalidStatus, steps.MissingCarrier);
        }

        var directives = Directives.Parse(carrier);
        await SimHttp.DelayAsync(directives, time, context.RequestAborted);
        if (directives.Has("abort"))
        {
            return SimHttp.Abort(context);
        }

        var code = directives.GetInt("status", 200);
        if (code is not (200 or < 100 or > 599))
        {
            SimHttp.ApplyRetryAfter(context, directives);
            return steps.Refuse(code, directives);
        }

        if (steps.Validate(body) is { } problem)
        {
            return steps.Error(steps.InvalidStatus, problem);
        }

        return steps.Accept(context, body, carrier, directives);
    }
}
