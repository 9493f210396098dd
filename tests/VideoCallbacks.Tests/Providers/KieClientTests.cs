using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Tests.Submission;
using static VideoCallbacks.Tests.Submission.SubmissionKit;

namespace VideoCallbacks.Tests.Providers;

public sealed class KieClientTests
{
    [Theory, BothDatabases]
    public async Task Manual_extension_reaches_Kie_with_bearer_auth_documented_fields_and_a_callback_url_for_the_job(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.Api();

        var job = await client.SubmitAsync(Kie(sourceTaskId: "kie-src-manual~never", index: 2, prompt: "slow pan to the left", watermark: "acme"));

        var sent = app.SubmissionFor(KieSubmitPath, "taskId", "kie-src-manual~never");
        Assert.Equal("POST", sent.Method);
        Assert.Equal("Bearer sim-kie-key", sent.Headers["Authorization"]);
        Assert.StartsWith("application/json", sent.Headers["Content-Type"]);
        var body = sent.Json();
        Assert.Equal("mj_video_extend_manual", body.GetProperty("taskType").GetString());
        Assert.Equal("kie-src-manual~never", body.GetProperty("taskId").GetString());
        Assert.Equal(JsonValueKind.Number, body.GetProperty("index").ValueKind);
        Assert.Equal(2, body.GetProperty("index").GetInt32());
        Assert.Equal("slow pan to the left", body.GetProperty("prompt").GetString());
        Assert.Equal("acme", body.GetProperty("waterMark").GetString());

        var callbackUrl = body.GetProperty("callBackUrl").GetString()!;
        var prefix = $"{app.BaseUrl.ToString().TrimEnd('/')}/v1/callbacks/kie/{job.JobId()}/";
        Assert.StartsWith(prefix, callbackUrl);
        var token = callbackUrl[prefix.Length..];
        Assert.True(token.Length >= 40, $"callback token '{token}' is too short to be unguessable");
        Assert.DoesNotContain('/', token);

        // The provider's task id is bound to the job.
        var taskId = app.Get<VideoCallbacks.Simulator.SimulatorState>().Tasks.Single(t => t.SourceTaskId == "kie-src-manual~never").TaskId;
        Assert.Equal(taskId, job.GetProperty("providerTaskId").GetString());
        Assert.Equal("submitted", job.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Auto_extension_sends_the_auto_task_type_and_no_prompt()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var client = app.Api();

        await client.SubmitAsync(Kie(sourceTaskId: "kie-src-auto~never", index: 0, mode: "auto"));

        var body = app.SubmissionFor(KieSubmitPath, "taskId", "kie-src-auto~never").Json();
        Assert.Equal("mj_video_extend_auto", body.GetProperty("taskType").GetString());
        Assert.False(body.TryGetProperty("prompt", out _), $"auto mode must not send a prompt: {body}");
        Assert.False(body.TryGetProperty("waterMark", out _), $"no watermark was asked for: {body}");
        Assert.Equal(0, body.GetProperty("index").GetInt32());
    }

    [Theory, BothDatabases]
    public async Task Callback_token_differs_per_job_and_never_appears_in_the_job_api_or_the_events(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.Api();

        var first = await client.SubmitAsync(Kie(sourceTaskId: "kie-token-a"));
        var second = await client.SubmitAsync(Kie(sourceTaskId: "kie-token-b"));
        var tokenA = Token(app, "kie-token-a");
        var tokenB = Token(app, "kie-token-b");
        Assert.NotEqual(tokenA, tokenB);

        // Let the sandbox complete both, so progress and completion events exist too.
        await client.WaitForEventsAsync([first.JobId(), second.JobId()], "video.extension.completed");

        var texts = new List<string>
        {
            await client.Http.GetStringAsync($"/v1/extensions/{first.JobId()}"),
            await client.Http.GetStringAsync($"/v1/extensions/{second.JobId()}"),
            await client.Http.GetStringAsync("/v1/events?after=0&limit=1000"),
            first.GetRawText(),
            second.GetRawText(),
        };
        foreach (var text in texts)
        {
            Assert.DoesNotContain(tokenA, text, StringComparison.Ordinal);
            Assert.DoesNotContain(tokenB, text, StringComparison.Ordinal);
        }
    }

    private static string Token(TestApp app, string sourceTaskId)
    {
        var url = app.SubmissionFor(KieSubmitPath, "taskId", sourceTaskId).Json().GetProperty("callBackUrl").GetString()!;
        return url[(url.LastIndexOf('/') + 1)..];
    }
}
