using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace VideoCallbacks.Tests.Submission;

/// <summary>The service (sandbox off) pointed at a WireMockServer playing all three providers.</summary>
public sealed class ProviderFaultApp : IAsyncLifetime
{
    /// <summary>
    /// Providers:*:Timeout for this app, long enough that a loaded machine does not time out a quick answer; a
    /// "slow" reply waits 2 s longer.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static readonly string[] Sections = ["Kie", "Apiframe", "NanoGpt"];

    public WireMockServer Provider { get; } = WireMockServer.Start();

    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["Sandbox:Enabled"] = "false";
            foreach (var section in Sections)
            {
                s[$"Providers:{section}:BaseUrl"] = Provider.Url;
                s[$"Providers:{section}:ApiKey"] = $"{section}-key";
                s[$"Providers:{section}:Timeout"] = Timeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
            }
            // Status polls and reconciliation stay out of the way of these submission tests.
            s["Providers:NanoGpt:PollInterval"] = "01:00:00";
            TestApp.NoReconcile(s);
            s["Reconcile:GiveUpAfter"] = "02:00:00";
        });
        // Warm the whole submit path once (JIT, connection pools), so a cold first test cannot hit the timeout.
        Provider.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithBody("""{"code":200,"msg":"success","data":{"taskId":"warm"},"task_id":"warm","runId":"warm"}"""));
        var client = App.Driver.Http;
        foreach (var body in new[] { Kie(sourceTaskId: "warm"), Apiframe(sourceTaskId: "warm"), NanoGptTask(sourceTaskId: "warm") })
        {
            using var response = await client.PostJsonAsync("/v1/extensions", body);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        Provider.Stop();
        Provider.Dispose();
    }
}

/// <summary>Every fault a provider can answer a submission with, through the service, with the job's state checked.</summary>
[StartsFirst]
public sealed class ProviderFaultTests(ProviderFaultApp fixture) : IClassFixture<ProviderFaultApp>
{
    private readonly WireMockServer _provider = Reset(fixture.Provider);
    private readonly HttpClient _client = fixture.App.Driver.Http;

    private static WireMockServer Reset(WireMockServer server)
    {
        server.Reset();
        return server;
    }

    private static string PathOf(string provider) => provider switch
    {
        "kie" => "/api/v1/mj/generateVideoExtend",
        "apiframe" => "/imagine-video-extend",
        _ => "/api/generate-video/extend",
    };

    private static Dictionary<string, object?> BodyFor(string provider, string source) => provider switch
    {
        "kie" => Kie(sourceTaskId: source),
        "apiframe" => Apiframe(sourceTaskId: source),
        _ => NanoGptTask(sourceTaskId: source),
    };

    /// <summary>A refusal in the provider's own format: Kie's envelope on HTTP 200, Apiframe's errors list, NanoGPT's error object.</summary>
    private void Refuses(string provider, int code, string message, string? retryAfter = null)
    {
        var (status, body) = provider switch
        {
            "kie" => (200, JsonSerializer.Serialize(new { code, msg = message, data = (object?)null })),
            "apiframe" => (code, code is 400 or 422 or 429 ? JsonSerializer.Serialize(new { errors = new[] { new { msg = message } } }) : "{}"),
            _ => (code, JsonSerializer.Serialize(new { error = new { message, status = code } })),
        };
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
        if (retryAfter is not null) response = response.WithHeader("Retry-After", retryAfter);
        _provider.Given(Request.Create().WithPath(PathOf(provider)).UsingPost()).RespondWith(response);
    }

    private void Answers(string provider, IResponseBuilder response) =>
        _provider.Given(Request.Create().WithPath(PathOf(provider)).UsingPost()).RespondWith(response);

    private int Submissions(string provider) =>
        _provider.LogEntries.Count(e => e.RequestMessage?.Path == PathOf(provider));

    private async Task<(HttpStatusCode Status, JsonElement Problem, JsonElement Job)> SubmitAsync(string provider, string source, string? key = null)
    {
        using var response = await _client.PostJsonAsync("/v1/extensions", BodyFor(provider, source), key);
        var problem = await response.JsonAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var job = await (await _client.GetAsync($"/v1/extensions/{problem.GetProperty("jobId").GetString()}")).JsonAsync();
        return (response.StatusCode, problem, job);
    }

    public static TheoryData<string, int, HttpStatusCode, string> Refusals()
    {
        var data = new TheoryData<string, int, HttpStatusCode, string>();
        foreach (var provider in new[] { "kie", "apiframe", "nanogpt" })
        {
            data.Add(provider, 401, HttpStatusCode.BadGateway, "provider_unavailable");
            data.Add(provider, 402, HttpStatusCode.BadGateway, "provider_unavailable");
            data.Add(provider, 422, HttpStatusCode.UnprocessableEntity, "provider_rejected");
            data.Add(provider, 455, HttpStatusCode.BadGateway, "provider_unavailable");
            data.Add(provider, 500, HttpStatusCode.BadGateway, "provider_unavailable");
            data.Add(provider, 501, HttpStatusCode.BadGateway, "provider_unavailable");
            data.Add(provider, 505, HttpStatusCode.BadGateway, "provider_unavailable");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Provider_refusal_maps_to_a_clear_status_fails_the_job_and_is_sent_exactly_once(string provider, int code, HttpStatusCode expected, string errorCode)
    {
        Refuses(provider, code, "The prompt violates the content policy");

        var (status, problem, job) = await SubmitAsync(provider, $"refused-{code}");

        Assert.Equal(expected, status);
        Assert.Equal(provider, problem.GetProperty("provider").GetString());
        if (code == 422) Assert.Contains("The prompt violates the content policy", problem.GetProperty("detail").GetString());
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal(errorCode, job.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(job.GetProperty("events").EnumerateArray());
        Assert.Equal(1, Submissions(provider));
    }

    [Theory]
    [InlineData("kie")]
    [InlineData("apiframe")]
    [InlineData("nanogpt")]
    public async Task Provider_rate_limit_answers_429_with_the_providers_Retry_After(string provider)
    {
        Refuses(provider, 429, "Too many requests", retryAfter: "7");

        var (status, problem, job) = await SubmitAsync(provider, "rate-limited");

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal(7, problem.GetProperty("retryAfterSeconds").GetInt32());
        Assert.Equal("provider_rate_limited", job.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, Submissions(provider));
    }

    [Theory]
    [InlineData("kie")]
    [InlineData("apiframe")]
    [InlineData("nanogpt")]
    public async Task Reply_slower_than_the_timeout_answers_504_keeps_the_job_unknown_and_never_resubmits(string provider)
    {
        Answers(provider, Response.Create().WithDelay(ProviderFaultApp.Timeout + TimeSpan.FromSeconds(2)).WithBody("{}"));

        var (status, problem, job) = await SubmitAsync(provider, "slow", key: $"slow-{provider}");

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        AssertUnknown(job);
        var jobId = problem.GetProperty("jobId").GetString();
        // The same request again (same key) answers what the first did while the outcome is unknown: 504 with the
        // job's Location, never a 202 that would call an uncertain submission a success; the provider is not asked twice.
        using var again = await _client.PostJsonAsync("/v1/extensions", BodyFor(provider, "slow"), $"slow-{provider}");
        Assert.Equal(HttpStatusCode.GatewayTimeout, again.StatusCode);
        Assert.Equal($"/v1/extensions/{jobId}", again.Headers.Location?.OriginalString);
        Assert.Equal(jobId, (await again.JsonAsync()).GetProperty("jobId").GetString());
        await Wait.UntilAsync(() => Task.FromResult(Submissions(provider)), n => n > 0, "WireMock to log the slow request");
        Assert.Equal(1, Submissions(provider));
    }

    [Theory]
    [InlineData("kie")]
    [InlineData("apiframe")]
    [InlineData("nanogpt")]
    public async Task Malformed_JSON_on_a_200_answers_504_and_keeps_the_job_unknown(string provider)
    {
        Answers(provider, Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"task_id": """));

        var (status, _, job) = await SubmitAsync(provider, "malformed");

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        AssertUnknown(job);
        Assert.Equal(1, Submissions(provider));
    }

    [Theory]
    [InlineData("kie", FaultType.EMPTY_RESPONSE)]
    [InlineData("apiframe", FaultType.EMPTY_RESPONSE)]
    [InlineData("nanogpt", FaultType.EMPTY_RESPONSE)]
    [InlineData("kie", FaultType.MALFORMED_RESPONSE_CHUNK)]
    [InlineData("apiframe", FaultType.MALFORMED_RESPONSE_CHUNK)]
    [InlineData("nanogpt", FaultType.MALFORMED_RESPONSE_CHUNK)]
    public async Task Empty_reply_or_connection_reset_answers_504_and_keeps_the_job_unknown(string provider, FaultType fault)
    {
        Answers(provider, Response.Create().WithFault(fault));

        var (status, _, job) = await SubmitAsync(provider, $"fault-{fault}");

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        AssertUnknown(job);
        Assert.Equal(1, Submissions(provider));
    }

    [Fact]
    public async Task A_retry_after_a_504_answers_202_once_a_callback_has_bound_the_job()
    {
        Answers("kie", Response.Create().WithDelay(ProviderFaultApp.Timeout + TimeSpan.FromSeconds(2)).WithBody("{}"));
        var (status, problem, _) = await SubmitAsync("kie", "slow-then-bound", key: "slow-then-bound");
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        var jobId = problem.GetProperty("jobId").GetString();

        // The provider did take the task: its callback arrives at the URL the service handed it, and binds the job.
        var sent = await Wait.UntilAsync(() => Task.FromResult(_provider.LogEntries.FirstOrDefault(e => e.RequestMessage?.Path == PathOf("kie"))),
            e => e is not null, "WireMock to log the slow request");
        var callbackUrl = JsonElement.Parse(sent!.RequestMessage!.Body!).GetProperty("callBackUrl").GetString()!;
        using (var callback = await _client.PostAsync(callbackUrl,
                   new StringContent(Fixture.Load("kie/callback-success.json", "kie-task-bound"), Encoding.UTF8, "application/json")))
        {
            Assert.True(callback.IsSuccessStatusCode, $"callback answered {(int)callback.StatusCode}");
        }

        using var again = await _client.PostJsonAsync("/v1/extensions", BodyFor("kie", "slow-then-bound"), "slow-then-bound");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var job = await again.JsonAsync();
        Assert.Equal(jobId, job.JobId());
        Assert.Equal("kie-task-bound", job.GetProperty("providerTaskId").GetString());
        Assert.Equal(1, Submissions("kie"));
    }

    /// <summary>The provider may have the task: the job waits for a callback (or the give-up deadline), with no event yet.</summary>
    private static void AssertUnknown(JsonElement job)
    {
        Assert.Equal("submitted", job.GetProperty("status").GetString());
        Assert.Equal("submission_unknown", job.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(job.GetProperty("events").EnumerateArray());
    }
}
