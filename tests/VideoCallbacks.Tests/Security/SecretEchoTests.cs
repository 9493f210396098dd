using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;
using static VideoCallbacks.Tests.Security.MisbehavingProvider;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 2: a provider that echoes our request (secrets included) in its error message.</summary>
public sealed class SecretEchoTests
{
    [Theory, EachOnBothDatabases("apiframe", "kie")]
    public async Task A_provider_echoing_the_request_cannot_leak_our_secrets_and_the_refused_job_takes_no_callback(Db db, string name)
    {
        using var provider = WireMockServer.Start();
        var path = name == "kie" ? "/api/v1/mj/generateVideoExtend" : "/imagine-video-extend";
        provider.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(Response.Create().WithCallback(request =>
        {
            // Echo the whole request, headers (our API key) and body (callback URL, token, webhook secret), as text.
            var echo = $"invalid request: {string.Join(", ", request.Headers!.Select(h => $"{h.Key}={h.Value}"))} {request.Body}";
            object body = name == "kie" ? new { code = 422, msg = echo } : new { errors = new[] { new { msg = echo } } };
            return new ResponseMessage
            {
                StatusCode = name == "kie" ? 200 : 422,
                BodyData = new BodyData { BodyAsString = JsonSerializer.Serialize(body), DetectedBodyType = BodyType.String },
            };
        }));
        await using var app = await StartServiceAsync(db, provider);
        var client = app.Driver.Http;

        object request = name == "kie"
            ? new { provider = name, sourceTaskId = "src-echo", index = 0, mode = "auto" }
            : new { provider = name, sourceTaskId = "src-echo", index = 0, prompt = "a slow pan" };
        using var response = await client.PostJsonAsync("/v1/extensions", request);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problemText = await response.Content.ReadAsStringAsync();
        var sent = Assert.Single(Received(provider, path));
        var hook = HookFrom(sent, name, "task-from-the-leak");
        var secrets = new[] { hook.CallbackUrl, hook.Token, hook.Secret, name == "kie" ? KieApiKey : ApiframeApiKey }.OfType<string>().ToList();
        Assert.Contains("invalid request", problemText);
        Assert.Contains("[redacted]", problemText);
        var jobId = hook.JobId;
        var jobText = await (await client.GetAsync($"/v1/extensions/{jobId}")).Content.ReadAsStringAsync();
        var stored = string.Join("\n", await JobColumnAsync(app, "error_message"));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, problemText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, jobText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, stored, StringComparison.OrdinalIgnoreCase);
        }

        // Even with the leaked URL and secret, the refused job takes no callback and keeps its state.
        var body = name == "kie"
            ? Fixture.Load("kie/callback-success.json", "task-from-the-leak")
            : Fixture.Load("apiframe/finished-with-status.json", "task-from-the-leak");
        using var forged = name == "kie" ? await Kit.PostKieAsync(app, hook, body) : await Kit.PostApiframeAsync(app, hook, body);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        var job = await app.Driver.JobAsync(jobId);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal("provider_rejected", job.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("providerTaskId").ValueKind);
        Assert.Empty(await app.Driver.FeedAsync(jobId));
    }
}
