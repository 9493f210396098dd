using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace VideoCallbacks.Simulator;

/// <summary><c>{prefix}/_sim</c>: recordings, task views and on-demand resends for tests and humans.</summary>
internal static class SimulatorControlEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/requests", (SimulatorState state, string? provider) =>
            SimHttp.Json(state.Requests.Where(r => provider is null || string.Equals(r.Provider, provider, StringComparison.OrdinalIgnoreCase)).ToArray()));

        group.MapGet("/callbacks", (SimulatorState state, string? taskId) =>
            SimHttp.Json(state.Callbacks.Where(c => taskId is null || c.TaskId == taskId).ToArray()));

        group.MapGet("/tasks/{taskId}", (SimulatorState state, string taskId) =>
            state.FindTask(taskId) is { } task ? SimHttp.Json(TaskView.From(task)) : NotFound(taskId));

        group.MapPost("/callbacks/{taskId}/resend", async (SimulatorState state, CallbackSender sender, string taskId, CancellationToken cancellationToken) =>
        {
            if (state.FindTask(taskId) is not { } task)
            {
                return NotFound(taskId);
            }

            if (task.LastCallback is not { } callback)
            {
                return SimHttp.Json(
                    new SimProblem($"Task {taskId} has no callback to resend yet (NanoGPT has none; others need a callback URL and time to run)."),
                    StatusCodes.Status409Conflict);
            }

            // One attempt, no retries: the caller sees exactly what the receiver answered.
            return SimHttp.Json(await sender.SendOnceAsync(task, callback, cancellationToken));
        });
    }

    private static IResult NotFound(string taskId) =>
        SimHttp.Json(new SimProblem($"No simulated task {taskId}."), StatusCodes.Status404NotFound);

    private sealed record SimProblem(string Error);

    private sealed record TaskView(
        string Provider,
        string TaskId,
        string TaskType,
        string SourceTaskId,
        int? Index,
        string? Prompt,
        string? Model,
        string? CallbackUrl,
        IReadOnlyDictionary<string, string> Directives,
        SimulatedTaskStatus Status,
        int? Percentage,
        IReadOnlyList<string> ResultUrls,
        string? Error,
        int StatusPolls,
        DateTimeOffset CreatedAt,
        DateTimeOffset? CompletedAt)
    {
        public static TaskView From(SimulatedTask task) => new(
            task.Provider, task.TaskId, task.TaskType, task.SourceTaskId, task.Index, task.Prompt, task.Model,
            task.CallbackUrl, task.Directives, task.Status, task.Percentage, task.ResultUrls, task.Error,
            task.StatusPolls, task.CreatedAt, task.CompletedAt);
    }
}
