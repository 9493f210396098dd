namespace VideoCallbacks.Tests.Submission;

public sealed class ProviderErrorMappingTests
{
    [Theory, EachOnBothDatabases("kie", "apiframe", "nanogpt")]
    public async Task Provider_rate_limit_answers_429_with_Retry_After_and_writes_no_submitted_event(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db);

        var problem = await SubmitRefusedAsync(app, WithDirectives(provider, "~status=429~retryafter=7"), HttpStatusCode.TooManyRequests,
            response => Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta));

        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Equal(7, problem.GetProperty("retryAfterSeconds").GetInt32());
    }

    [Theory]
    [BothDatabases("kie", "~status=422~msg=The prompt violates the content policy")]
    [BothDatabases("apiframe", "~status=400~msg=The prompt violates the content policy")]
    [InlineData(Db.Sqlite, "apiframe", "~status=422~msg=The prompt violates the content policy")]
    [InlineData(Db.Sqlite, "nanogpt", "~status=400~msg=The prompt violates the content policy")]
    public async Task Provider_validation_error_answers_422_relaying_the_providers_message(Db db, string provider, string directives)
    {
        await using var app = await TestApp.StartAsync(db);

        var problem = await SubmitRefusedAsync(app, WithDirectives(provider, directives), HttpStatusCode.UnprocessableEntity);

        Assert.Contains("The prompt violates the content policy", problem.GetProperty("detail").GetString());
        Assert.Equal(provider, problem.GetProperty("provider").GetString());
        var job = await (await app.Driver.GetAsync($"/v1/extensions/{problem.GetProperty("jobId").GetString()}")).JsonAsync();
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("The prompt violates the content policy", job.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory, EachOnBothDatabases("kie", "apiframe", "nanogpt")]
    public async Task Provider_server_error_answers_502(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db);

        await SubmitRefusedAsync(app, WithDirectives(provider, "~status=500"), HttpStatusCode.BadGateway);
    }

    [Theory, BothDatabases]
    public async Task Kie_body_code_is_checked_even_when_the_http_status_is_200(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var problem = await SubmitRefusedAsync(app, Kie(sourceTaskId: "kie-credits~status=402"), HttpStatusCode.BadGateway);

        Assert.Contains("insufficient credits", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [BothDatabases("kie")]
    [InlineData(Db.Sqlite, "apiframe")]
    [InlineData(Db.Sqlite, "nanogpt")]
    public async Task Slow_provider_answers_504_and_the_job_stays_retrievable_and_is_not_resubmitted(Db db, string provider)
    {
        var section = provider switch { "kie" => "Kie", "apiframe" => "Apiframe", _ => "NanoGpt" };
        await using var app = await TestApp.StartAsync(db, s => s[$"Providers:{section}:Timeout"] = "00:00:01");
        var body = WithDirectives(provider, "~slow=4000");

        using var response = await app.Driver.PostJsonAsync("/v1/extensions", body, idempotencyKey: "slow-1");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        var problem = await response.JsonAsync();
        var jobId = problem.GetProperty("jobId").GetString()!;
        using var get = await app.Driver.GetAsync($"/v1/extensions/{jobId}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var job = await get.JsonAsync();
        Assert.Equal(jobId, job.GetProperty("jobId").GetString());
        Assert.NotEqual("completed", job.GetProperty("status").GetString());

        // The same request again (same key) must not reach the provider a second time, and answers what the first
        // did while the outcome is unknown (issue 18, defect 5: it used to say 202).
        using var again = await app.Driver.PostJsonAsync("/v1/extensions", body, idempotencyKey: "slow-1");
        Assert.Equal(HttpStatusCode.GatewayTimeout, again.StatusCode);
        Assert.Equal($"/v1/extensions/{jobId}", again.Headers.Location?.OriginalString);
        Assert.Equal(jobId, (await again.JsonAsync()).GetProperty("jobId").GetString());
        Assert.Single(app.Received(SubmitPath(provider)));
    }

    [Theory, BothDatabases]
    public async Task Unreachable_provider_answers_502(Db db)
    {
        var closedPort = Ports.Free();
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s["Sandbox:Enabled"] = "false";
            s["Providers:Kie:BaseUrl"] = $"http://127.0.0.1:{closedPort}";
            s["Providers:Kie:ApiKey"] = "x";
        });

        var problem = await SubmitRefusedAsync(app, Kie(sourceTaskId: "kie-unreachable"), HttpStatusCode.BadGateway);

        Assert.Contains("could not be reached", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Provider_dropping_the_connection_answers_504_because_the_task_may_exist()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);

        using var response = await app.Driver.PostJsonAsync("/v1/extensions", Kie(sourceTaskId: "kie-drop~abort"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var problem = await response.JsonAsync();
        using var get = await app.Driver.GetAsync($"/v1/extensions/{problem.GetProperty("jobId").GetString()}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Single(app.Received(KieSubmitPath));
    }

    internal static Dictionary<string, object?> WithDirectives(string provider, string directives) => provider switch
    {
        "kie" => Kie(sourceTaskId: "kie-src" + directives),
        "apiframe" => Apiframe(sourceTaskId: "af-src" + directives),
        _ => NanoGptTask(sourceTaskId: "nano-src" + directives),
    };

    internal static string SubmitPath(string provider) => provider switch
    {
        "kie" => KieSubmitPath,
        "apiframe" => ApiframeSubmitPath,
        _ => NanoGptExtendPath,
    };

    /// <summary>
    /// Submits <paramref name="body"/>, expects the provider's refusal as a <paramref name="status"/> problem, and
    /// checks the refused job wrote no submitted event. Answers the problem.
    /// </summary>
    private static async Task<JsonElement> SubmitRefusedAsync(TestApp app, object body, HttpStatusCode status, Action<HttpResponseMessage>? check = null)
    {
        using var response = await app.Driver.PostJsonAsync("/v1/extensions", body);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        check?.Invoke(response);
        var problem = await response.JsonAsync();

        var jobId = problem.GetProperty("jobId").GetString()!;
        Assert.DoesNotContain(await app.Driver.FeedAsync(limit: 100), e => e.Subject() == jobId);
        var job = await (await app.Driver.GetAsync($"/v1/extensions/{jobId}")).JsonAsync();
        Assert.Empty(job.GetProperty("events").EnumerateArray());
        return problem;
    }
}
