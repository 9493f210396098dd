using System.Net;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Tests.Security;

/// <summary>
/// Issue 14, found by the hostile-input scenario: U+0000 reached PostgreSQL (which cannot store it) as a 500 on submit
/// and a 503 on every retry of a verified callback; an escaped lone surrogate in any callback body, even a forged one,
/// was a 500; and callback tokens in almost-right paths were logged in clear.
/// </summary>
public sealed class HostileTextTests
{
    private const string Token = "Az6ATOOearYXxy4_WQxQ8H-ZMt246Xj1-JAsh3pK3Wg";

    [Theory, BothDatabases]
    public async Task A_NUL_character_in_a_submission_is_a_400_naming_each_field_on_every_engine(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = app.Driver.Http;

        using var response = await client.PostAsync("/v1/extensions", new StringContent(
            """{"provider":"kie","sourceTaskId":"src-nul","index":0,"mode":"manual","prompt":"a\u0000b","correlationId":"c\u0000","metadata":{"k":"v\u0000"}}""",
            System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        foreach (var field in new[] { "prompt", "correlationId", "metadata" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"errors should name '{field}': {errors}");
        }
    }

    [Theory, BothDatabases]
    public async Task A_verified_callback_carrying_a_NUL_byte_is_kept_as_not_understood_instead_of_answered_503(Db db)
    {
        // The ~nocallback job must still be submitted at the end: no reconciliation.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);

        using var response = await Kit.PostApiframeAsync(app, hook, "{\"task_id\":\"x\0\",\"status\":\"finished\"\0");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", (await response.JsonAsync()).GetProperty("outcome").GetString());
        Assert.Contains(await app.Driver.AdminCallbacksAsync("outcome=failed"), c => c.JobId == hook.JobId);
        Assert.Equal("submitted", (await app.Driver.JobAsync(hook.JobId)).GetProperty("status").GetString());
    }

    [Theory, BothDatabases]
    public async Task A_provider_message_with_an_escaped_NUL_fails_the_job_with_the_message_kept(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);

        using var response = await Kit.PostApiframeAsync(app, hook,
            $$"""{"task_id":"{{hook.ProviderTaskId}}","status":"failed","message":"moderation\u0000 refused"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var job = await app.Driver.WaitForJobAsync(hook.JobId, "failed");
        Assert.Equal("moderation\uFFFD refused", job.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory, BothDatabases]
    public async Task A_callback_body_with_an_escaped_lone_surrogate_is_refused_or_kept_as_not_understood_never_a_500(Db db)
    {
        // The ~nocallback job must still be submitted at the end: no reconciliation.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        const string loneKey = """{"\ud800x":1,"task_id":"t","status":"finished","video_urls":["https://cdn.example.com/v.mp4"]}""";
        const string loneValue = """{"task_id":"a\udc00b","status":"finished","video_urls":["https://cdn.example.com/v.mp4"]}""";

        using var forged = await Kit.PostApiframeAsync(app, hook, loneKey, url: hook.UrlWith(token: "not-the-token"));
        using var verified = await Kit.PostApiframeAsync(app, hook, loneValue);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        Assert.Equal("failed", (await verified.JsonAsync()).GetProperty("outcome").GetString());
        Assert.Equal("submitted", (await app.Driver.JobAsync(hook.JobId)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData($"/V1/CALLBACKS/apiframe/job_01a2/{Token}")]
    [InlineData($"/v1/Callbacks/KIE/job_01a2/{Token}")]
    [InlineData($"/v1/callbacks/apiframe/job_01a2//{Token}")]
    [InlineData($"/v1/callbacks/apiframe/job_01a2/{Token}/extra")]
    [InlineData($"/v1/callbacks/apiframe/job_01a2%2F{Token}")]
    [InlineData($"/v1/callbacks/apiframe/job_01a2%2f{Token}")]
    [InlineData($"/v1/callbacks/kie/job%2001a2/{Token}?retry=1")]
    [InlineData($"/v1/callbacks//job_01a2/{Token}")]
    [InlineData($"POST http://127.0.0.1:5000/v1/callbacks/kie/job_01a2/{Token} - application/json 120")]
    public void A_callback_token_in_an_almost_right_path_is_redacted_from_logs(string line)
    {
        var redacted = RedactingJsonFormatter.Redact(line);

        Assert.DoesNotContain(Token, redacted, StringComparison.Ordinal);
        Assert.Contains("job", redacted, StringComparison.OrdinalIgnoreCase);
    }
}
