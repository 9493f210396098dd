using System.Text.Json;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Providers.NanoGpt;

/// <summary>NanoGPT's status endpoint, in both documented shapes and every documented spelling.</summary>
public static class NanoGptFormat
{
    public static StatusResult FromStatus(JsonElement root)
    {
        // Shape B nests everything under "data".
        var doc = root.Prop("data") is { ValueKind: JsonValueKind.Object } data && data.Prop("status") is not null ? data : root;
        var status = doc.Prop("status").Str()?.Trim().ToUpperInvariant().Replace(' ', '_');
        var progress = doc.Prop("progress").Int();
        switch (status)
        {
            case "QUEUED" or "IN_QUEUE" or "PENDING" or "UNKNOWN" or null:
                // Not started yet (or the provider does not know): no news, keep asking.
                return new StatusResult(status is null ? null : new ProviderObservation(JobStatuses.Submitted),
                    Problem: status is null ? "status document without status" : null);
            case "PROCESSING" or "IN_PROGRESS" or "GENERATING" or "DELIVERING" or "RUNNING":
                return new StatusResult(ProviderObservation.Processing(progress));
            case "COMPLETED" or "COMPLETE" or "SUCCEEDED" or "SUCCESS":
                var url = doc.FirstStr(["videoUrl"], ["output", "video", "url"], ["video_url"], ["url"]);
                var urls = url is null ? doc.Prop("videoUrls").Urls("url") : [url];
                return urls.Count == 0
                    ? new StatusResult(null, Problem: "completed without a video URL")
                    : new StatusResult(ProviderObservation.Completed(urls));
            case "FAILED" or "ERROR":
                return new StatusResult(ProviderObservation.Failed("nanogpt_failed", Message(doc, "NanoGPT reported the generation failed")));
            case "CANCELLED" or "CANCELED":
                return new StatusResult(ProviderObservation.Failed("nanogpt_cancelled", Message(doc, "NanoGPT cancelled the generation")));
            default:
                return new StatusResult(null, Problem: $"unknown status '{status}'");
        }
    }

    private static string Message(JsonElement doc, string fallback) =>
        doc.Prop("userFriendlyError").ErrorText() ?? doc.Prop("error").ErrorText() ?? fallback;
}
