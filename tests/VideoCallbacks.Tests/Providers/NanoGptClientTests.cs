using VideoCallbacks.Api.Providers.NanoGpt;
using VideoCallbacks.Tests.Submission;
using static VideoCallbacks.Tests.Submission.SubmissionKit;

namespace VideoCallbacks.Tests.Providers;

public sealed class NanoGptClientTests
{
    [Theory, BothDatabases]
    public async Task Task_based_extension_posts_runId_and_index_to_the_extend_endpoint_with_x_api_key(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.Api();

        var job = await client.SubmitAsync(NanoGptTask(sourceTaskId: "nano-run~never", index: 3));

        var sent = app.SubmissionFor(NanoGptExtendPath, "runId", "nano-run~never");
        Assert.Equal("POST", sent.Method);
        Assert.Equal("sim-nanogpt-key", sent.Headers["x-api-key"]);
        var body = sent.Json();
        Assert.Equal(["index", "runId"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.Number, body.GetProperty("index").ValueKind);
        Assert.Equal(3, body.GetProperty("index").GetInt32());
        AssertNoCallbackSent(sent);
        Assert.Empty(app.Received(NanoGptGeneratePath));

        var runId = app.Get<VideoCallbacks.Simulator.SimulatorState>().Tasks.Single(t => t.SourceTaskId == "nano-run~never").TaskId;
        Assert.Equal(runId, job.GetProperty("providerTaskId").GetString());
    }

    [Theory, BothDatabases]
    public async Task Source_video_extension_posts_model_prompt_and_videoUrl_to_generate_video(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.Api();

        await client.SubmitAsync(NanoGptVideo(prompt: "keep walking~never", model: "veo3-1-extend", videoUrl: "https://videos.example.com/a.mp4"));

        var sent = Assert.Single(app.Received(NanoGptGeneratePath));
        Assert.Equal("sim-nanogpt-key", sent.Headers["x-api-key"]);
        var body = sent.Json();
        Assert.Equal(["model", "prompt", "videoUrl"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("veo3-1-extend", body.GetProperty("model").GetString());
        Assert.Equal("keep walking~never", body.GetProperty("prompt").GetString());
        Assert.Equal("https://videos.example.com/a.mp4", body.GetProperty("videoUrl").GetString());
        AssertNoCallbackSent(sent);
        Assert.Empty(app.Received(NanoGptExtendPath));
    }

    private static void AssertNoCallbackSent(VideoCallbacks.Simulator.RecordedRequest sent)
    {
        Assert.DoesNotContain("/v1/callbacks", sent.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("callback", sent.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("webhook", sent.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(sent.Headers.Values, v => v.Contains("/v1/callbacks", StringComparison.OrdinalIgnoreCase));
    }
}
