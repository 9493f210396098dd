using System.Net.Http.Headers;

namespace VideoCallbacks.Tests.Submission;

/// <summary>Request bodies, simulator lookups and event-feed readers shared by the submission tests.</summary>
internal static class SubmissionKit
{
    public const string KieSubmitPath = "/sandbox/kie/api/v1/mj/generateVideoExtend";
    public const string ApiframeSubmitPath = "/sandbox/apiframe/imagine-video-extend";
    public const string NanoGptExtendPath = "/sandbox/nanogpt/api/generate-video/extend";
    public const string NanoGptGeneratePath = "/sandbox/nanogpt/api/generate-video";

    public static Dictionary<string, object?> Kie(string sourceTaskId = "mj-source-1", int index = 0, string mode = "manual",
        string? prompt = "the camera pulls back over the sea", string? watermark = null, string? correlationId = null) =>
        Body(new()
        {
            ["provider"] = "kie",
            ["sourceTaskId"] = sourceTaskId,
            ["index"] = index,
            ["mode"] = mode,
            ["prompt"] = mode == "auto" ? null : prompt,
            ["watermark"] = watermark,
            ["correlationId"] = correlationId,
        });

    public static Dictionary<string, object?> Apiframe(string sourceTaskId = "af-source-1", int index = 0,
        string prompt = "the camera pulls back over the sea", string? motion = null, string? imageUrl = null) =>
        Body(new()
        {
            ["provider"] = "apiframe",
            ["sourceTaskId"] = sourceTaskId,
            ["index"] = index,
            ["prompt"] = prompt,
            ["motion"] = motion,
            ["imageUrl"] = imageUrl,
        });

    public static Dictionary<string, object?> NanoGptTask(string sourceTaskId = "nano-run-1", int index = 0) =>
        Body(new() { ["provider"] = "nanogpt", ["sourceTaskId"] = sourceTaskId, ["index"] = index });

    public static Dictionary<string, object?> NanoGptVideo(string prompt = "continue the shot", string model = "veo3-1-extend",
        string videoUrl = "https://videos.example.com/source.mp4") =>
        Body(new() { ["provider"] = "nanogpt", ["model"] = model, ["prompt"] = prompt, ["videoUrl"] = videoUrl });

    private static Dictionary<string, object?> Body(Dictionary<string, object?> fields) =>
        fields.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value);

    public static string JobId(this JsonElement job) => job.GetProperty("jobId").GetString()!;

    /// <summary>Requests the simulator received on a path (query string ignored).</summary>
    public static IReadOnlyList<RecordedRequest> Received(this TestApp app, string path) =>
        app.Get<SimulatorState>().Requests.Where(r => r.Path.Split('?')[0] == path).ToList();

    public static JsonElement Json(this RecordedRequest request)
    {
        return JsonElement.Parse(request.Body);
    }

    /// <summary>The one submission the simulator received for a source task id.</summary>
    public static RecordedRequest SubmissionFor(this TestApp app, string path, string field, string sourceTaskId)
    {
        var matches = app.Received(path).Where(r => r.Json().TryGetProperty(field, out var v) && v.GetString() == sourceTaskId).ToList();
        return Assert.Single(matches);
    }

    public static async Task<string> ProblemContentTypeAsync(HttpResponseMessage response)
    {
        await response.Content.LoadIntoBufferAsync();
        return response.Content.Headers.ContentType?.MediaType ?? "";
    }

    public static string Subject(this JsonElement cloudEvent) => cloudEvent.GetProperty("subject").GetString()!;

    public static string Type(this JsonElement cloudEvent) => cloudEvent.GetProperty("type").GetString()!;

    public static long Sequence(this JsonElement cloudEvent) => cloudEvent.GetProperty("sequence").GetInt64();

}

/// <summary>One Server-Sent Event as received.</summary>
internal sealed record SseEvent(string? Id, string? Event, string Data)
{
    public JsonElement Json()
    {
        return JsonElement.Parse(Data);
    }
}

internal static class Sse
{
    /// <summary>
    /// Reads <c>/v1/events/stream</c> until <paramref name="enough"/> holds for what arrived, then hangs up.
    /// </summary>
    public static async Task<List<SseEvent>> ReadAsync(ServiceApi client, Func<IReadOnlyList<SseEvent>, bool> enough,
        string? lastEventId = null, string path = "/v1/events/stream", TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Wait.Default);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var received = new List<SseEvent>();
        try
        {
            using var response = await client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            using var reader = new StreamReader(stream);
            string? id = null, type = null;
            var data = new List<string>();
            while (await reader.ReadLineAsync(cts.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0) received.Add(new SseEvent(id, type, string.Join('\n', data)));
                    id = null;
                    type = null;
                    data.Clear();
                    if (enough(received)) return received;
                    continue;
                }
                if (line.StartsWith(':')) continue;
                var colon = line.IndexOf(':');
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                switch (field)
                {
                    case "id": id = value; break;
                    case "event": type = value; break;
                    case "data": data.Add(value); break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // Fall through to the failure below with what arrived.
        }
        throw new Xunit.Sdk.XunitException(
            $"The event stream ended or timed out before the expected events arrived; got {received.Count}: " +
            string.Join(" | ", received.Select(e => $"{e.Id} {e.Event}")));
    }
}
