using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Tests.Submission;
using static VideoCallbacks.Tests.Submission.SubmissionKit;

namespace VideoCallbacks.Tests.Providers;

public sealed class ApiframeClientTests
{
    [Theory, BothDatabases]
    public async Task Extension_reaches_Apiframe_with_raw_key_auth_documented_fields_webhook_url_and_secret(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.Api();

        var job = await client.SubmitAsync(Apiframe(sourceTaskId: "af-src~never", index: 1, prompt: "the bird takes off",
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

    [Theory]
    [InlineData(0, "1")]
    [InlineData(1, "2")]
    [InlineData(2, "3")]
    [InlineData(3, "4")]
    public async Task Zero_based_index_becomes_Apiframes_one_based_string(int index, string expected)
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var client = app.Api();

        await client.SubmitAsync(Apiframe(sourceTaskId: $"af-index-{index}~never", index: index));

        var body = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", $"af-index-{index}~never").Json();
        Assert.Equal(JsonValueKind.String, body.GetProperty("index").ValueKind);
        Assert.Equal(expected, body.GetProperty("index").GetString());
    }

    [Fact]
    public async Task Optional_fields_left_out_are_not_sent()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var client = app.Api();

        await client.SubmitAsync(Apiframe(sourceTaskId: "af-minimal~never"));

        var body = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "af-minimal~never").Json();
        Assert.False(body.TryGetProperty("motion", out _), body.ToString());
        Assert.False(body.TryGetProperty("image_url", out _), body.ToString());
    }

    [Theory, BothDatabases]
    public async Task Webhook_secret_and_token_are_random_per_job_and_never_appear_in_the_job_api_or_the_events(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var client = app.Api();

        var first = await client.SubmitAsync(Apiframe(sourceTaskId: "af-secret-a"));
        var second = await client.SubmitAsync(Apiframe(sourceTaskId: "af-secret-b"));
        var a = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "af-secret-a").Json();
        var b = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "af-secret-b").Json();
        var secrets = new[] { a.GetProperty("webhook_secret").GetString()!, b.GetProperty("webhook_secret").GetString()! };
        var tokens = new[] { a, b }.Select(x => x.GetProperty("webhook_url").GetString()!).Select(u => u[(u.LastIndexOf('/') + 1)..]).ToArray();
        Assert.NotEqual(secrets[0], secrets[1]);
        Assert.NotEqual(tokens[0], tokens[1]);
        Assert.DoesNotContain(secrets[0], tokens);

        await client.WaitForEventsAsync([first.JobId(), second.JobId()], "video.extension.completed");

        var texts = new[]
        {
            await client.Http.GetStringAsync($"/v1/extensions/{first.JobId()}"),
            await client.Http.GetStringAsync($"/v1/extensions/{second.JobId()}"),
            await client.Http.GetStringAsync("/v1/events?after=0&limit=1000"),
            first.GetRawText(),
            second.GetRawText(),
        };
        foreach (var text in texts)
        {
            foreach (var secret in secrets.Concat(tokens)) Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

}
