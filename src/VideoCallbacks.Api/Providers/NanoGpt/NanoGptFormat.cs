using System.Text.Json;
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
                var urls = VideoUrls(doc);
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

    /// <summary>
    /// Every video the document carries, in order, each once: midjourney-video is documented to return four while the
    /// status example shows one <c>output.video.url</c>, so the single fields and the arrays are all read; none is dropped.
    /// </summary>
    public static IReadOnlyList<string> VideoUrls(JsonElement doc)
    {
        var urls = new List<string>();
        foreach (var single in new[] { doc.Path("videoUrl"), doc.Path("output", "video", "url"), doc.Path("video_url"), doc.Path("url") })
        {
            if (single is { ValueKind: JsonValueKind.String } && single.Str() is { } u && !string.IsNullOrWhiteSpace(u)) urls.Add(u);
        }
        urls.AddRange(doc.Path("output", "videos").Urls("url"));
        urls.AddRange(doc.Prop("videoUrls").Urls("url"));
        urls.AddRange(doc.Prop("urls").Urls("url"));
        return urls.Distinct(StringComparer.Ordinal).ToList();
    }

    private static string Message(JsonElement doc, string fallback) =>
        doc.Prop("userFriendlyError").ErrorText() ?? doc.Prop("error").ErrorText() ?? fallback;
}
