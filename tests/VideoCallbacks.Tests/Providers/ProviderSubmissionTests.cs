using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Api.Providers.NanoGpt;

namespace VideoCallbacks.Tests.Providers;

/// <summary>
/// Submissions through the whole service to the sandbox providers: what reaches each provider carries this job's
/// callback URL and fresh secrets, and none of them leaks back. The exact wire shapes (fields, types, optional
/// fields, faults) are pinned without a web host in Providers/Contract.
/// </summary>
public sealed class ProviderSubmissionTests
{
    [Theory, BothDatabases]
    public async Task Extension_reaches_Apiframe_with_raw_key_auth_documented_fields_webhook_url_and_secret(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var job = await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "af-src~never", index: 1, prompt: "the bird takes off",
            motion: "high", imageUrl: "https://images.example.com/frame.png"));

        var sent = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "af-src~never");
        Assert.Equal("POST", sent.Method);
        Assert.Equal("sim-apiframe-key", sent.Headers["Authorization"]);
        var body = sent.Json();
        Assert.Equal(JsonValueKind.String, body.GetProperty("index").ValueKind);
        Assert.Equal("2", body.GetProperty("index").GetString());
        Assert.Equal("the bird takes off", body.GetProperty("prompt").GetString());
        Assert.Equal("high", body.GetProperty("motion").GetString());
        Assert.Equal("https://images.example.com/frame.png", body.GetProperty("image_url").GetString());

        var webhookUrl = body.GetProperty("webhook_url").GetString()!;
        var prefix = $"{app.BaseUrl.ToString().TrimEnd('/')}/v1/callbacks/apiframe/{job.JobId()}/";
        Assert.StartsWith(prefix, webhookUrl);
        Assert.True(webhookUrl[prefix.Length..].Length >= 40, $"callback token in '{webhookUrl}' is too short");
        var secret = body.GetProperty("webhook_secret").GetString()!;
        Assert.True(secret.Length >= 32, $"webhook_secret '{secret}' is too short to be unguessable");
    }

    [Theory, BothDatabases]
    public async Task Webhook_secret_and_token_are_random_per_job_and_never_appear_in_the_job_api_or_the_events(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var first = await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "af-secret-a"));
        var second = await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "af-secret-b"));
        var a = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "af-secret-a").Json();
        var b = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "af-secret-b").Json();
        var secrets = new[] { a.GetProperty("webhook_secret").GetString()!, b.GetProperty("webhook_secret").GetString()! };
        var tokens = new[] { a, b }.Select(x => x.GetProperty("webhook_url").GetString()!).Select(u => u[(u.LastIndexOf('/') + 1)..]).ToArray();
        Assert.NotEqual(secrets[0], secrets[1]);
        Assert.NotEqual(tokens[0], tokens[1]);
        Assert.DoesNotContain(secrets[0], tokens);

        await AssertShownNowhereAsync(app, first, second, [.. secrets, .. tokens]);
    }

    [Theory, BothDatabases]
    public async Task Manual_extension_reaches_Kie_with_bearer_auth_documented_fields_and_a_callback_url_for_the_job(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var job = await app.Driver.SubmitAsync(Kie(sourceTaskId: "kie-src-manual~never", index: 2, prompt: "slow pan to the left", watermark: "acme"));

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

    [Theory, BothDatabases]
    public async Task Callback_token_differs_per_job_and_never_appears_in_the_job_api_or_the_events(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var first = await app.Driver.SubmitAsync(Kie(sourceTaskId: "kie-token-a"));
        var second = await app.Driver.SubmitAsync(Kie(sourceTaskId: "kie-token-b"));
        var tokenA = Token(app, "kie-token-a");
        var tokenB = Token(app, "kie-token-b");
        Assert.NotEqual(tokenA, tokenB);

        await AssertShownNowhereAsync(app, first, second, [tokenA, tokenB]);
    }

    /// <summary>
    /// Once the sandbox has completed both jobs (so progress and completion events exist too), none of
    /// <paramref name="secrets"/> is in either job as the API shows it, in the event feed or in the submit answers.
    /// </summary>
    private static async Task AssertShownNowhereAsync(TestApp app, JsonElement first, JsonElement second, string[] secrets)
    {
        await app.Driver.WaitForEventsAsync([first.JobId(), second.JobId()], "video.extension.completed");
        string[] texts =
        [
            await app.Driver.Http.GetStringAsync($"/v1/extensions/{first.JobId()}"),
            await app.Driver.Http.GetStringAsync($"/v1/extensions/{second.JobId()}"),
            await app.Driver.Http.GetStringAsync("/v1/events?after=0&limit=1000"),
            first.GetRawText(),
            second.GetRawText(),
        ];
        foreach (var text in texts)
        {
            foreach (var secret in secrets) Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    private static string Token(TestApp app, string sourceTaskId)
    {
        var url = app.SubmissionFor(KieSubmitPath, "taskId", sourceTaskId).Json().GetProperty("callBackUrl").GetString()!;
        return url[(url.LastIndexOf('/') + 1)..];
    }

    [Theory, BothDatabases]
    public async Task Task_based_extension_posts_runId_and_index_to_the_extend_endpoint_with_x_api_key(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var job = await app.Driver.SubmitAsync(NanoGptTask(sourceTaskId: "nano-run~never", index: 3));

        var sent = app.SubmissionFor(NanoGptExtendPath, "runId", "nano-run~never");
        Assert.Equal("POST", sent.Method);
        Assert.Equal("sim-nanogpt-key", sent.Headers["x-api-key"]);
        var body = sent.Json();
        Assert.Equal(["index", "runId", "taskId"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(body.GetProperty("runId").GetString(), body.GetProperty("taskId").GetString());
        Assert.Equal(JsonValueKind.Number, body.GetProperty("index").ValueKind);
        Assert.Equal(3, body.GetProperty("index").GetInt32());
        AssertNoCallbackSent(sent);
        Assert.Empty(app.Received(NanoGptGeneratePath));

        var runId = app.Get<VideoCallbacks.Simulator.SimulatorState>().Tasks.Single(t => t.SourceTaskId == "nano-run~never").TaskId;
        Assert.Equal(runId, job.GetProperty("providerTaskId").GetString());
    }

    /// <summary>NanoGPT has no webhooks: nothing that looks like a callback may be sent to it.</summary>
    private static void AssertNoCallbackSent(VideoCallbacks.Simulator.RecordedRequest sent)
    {
        Assert.DoesNotContain("/v1/callbacks", sent.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("callback", sent.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("webhook", sent.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(sent.Headers.Values, v => v.Contains("/v1/callbacks", StringComparison.OrdinalIgnoreCase));
    }
}
