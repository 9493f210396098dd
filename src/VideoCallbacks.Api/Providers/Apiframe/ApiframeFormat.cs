using System.Text.Json;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Providers.Apiframe;

/// <summary>Apiframe task documents: the same shape arrives as a callback and from /fetch.</summary>
public static class ApiframeFormat
{
    private static readonly HashSet<string> Running = ["pending", "staged", "starting", "processing", "retry", "retrying", "queued", "in_progress"];

    public static string? TaskId(JsonElement root) => root.FirstStr(["task_id"], ["taskId"]);

    public static (ProviderObservation? Observation, string? Problem) FromDocument(JsonElement root)
    {
        var status = root.Prop("status").Str()?.Trim().ToLowerInvariant();
        var urls = root.Prop("video_urls").Urls("url");
        if (status is "failed" or "error")
        {
            var message = root.Prop("message").ErrorText() ?? root.Prop("error").ErrorText() ?? "Apiframe reported the task failed";
            return (ProviderObservation.Failed("apiframe_failed", message), null);
        }
        // A finished document may carry no status at all: result URLs mean finished.
        if (urls.Count > 0) return (ProviderObservation.Completed(urls), null);
        if (status is not null && Running.Contains(status))
        {
            return (ProviderObservation.Processing(root.Prop("percentage").Int()), null);
        }
        if (status is null && (root.Prop("error") is not null || root.Prop("message") is not null))
        {
            var message = root.Prop("message").ErrorText() ?? root.Prop("error").ErrorText()!;
            return (ProviderObservation.Failed("apiframe_failed", message), null);
        }
        if (status == "finished") return (null, "finished document without video_urls");
        return (null, status is null ? "document has neither status nor video_urls" : $"unknown status '{status}'");
    }

    public static StatusResult FromFetch(JsonElement root)
    {
        var (observation, problem) = FromDocument(root);
        return new StatusResult(observation, Problem: problem);
    }
}
