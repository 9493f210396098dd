using Microsoft.Extensions.Http;

namespace VideoCallbacks.Tests.Submission;

public sealed class IdempotencyTests
{
    [Theory, BothDatabases]
    public async Task Same_idempotency_key_and_body_returns_the_same_job_and_calls_the_provider_once(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var body = Kie(sourceTaskId: "idem-same~never");

        var first = await app.Driver.SubmitAsync(body, idempotencyKey: "order-1");
        var second = await app.Driver.SubmitAsync(body, idempotencyKey: "order-1");

        Assert.Equal(first.JobId(), second.JobId());
        Assert.Equal(first.GetProperty("providerTaskId").GetString(), second.GetProperty("providerTaskId").GetString());
        Assert.Single(app.Received(KieSubmitPath));
        var submitted = (await app.Driver.FeedAsync(limit: 100)).Where(e => e.Type() == "video.extension.submitted").ToList();
        Assert.Single(submitted);
    }

    [Theory, BothDatabases]
    public async Task Same_idempotency_key_with_a_different_body_is_a_409_problem(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var first = await app.Driver.SubmitAsync(Kie(sourceTaskId: "idem-conflict~never", prompt: "first"), idempotencyKey: "order-2");
        using var response = await app.Driver.PostJsonAsync("/v1/extensions", Kie(sourceTaskId: "idem-conflict~never", prompt: "second"), "order-2");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        Assert.Equal(409, (await response.JsonAsync()).GetProperty("status").GetInt32());
        Assert.Single(app.Received(KieSubmitPath));
        Assert.Equal(HttpStatusCode.OK, (await app.Driver.GetAsync($"/v1/extensions/{first.JobId()}")).StatusCode);
    }

    [Theory, BothDatabases]
    public async Task Different_api_keys_with_the_same_idempotency_key_are_independent(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var alice = app.Driver;
        var bob = app.Driver.As(TestApp.OtherClientKey);
        var body = Kie(sourceTaskId: "idem-keys~never");

        var a = await alice.SubmitAsync(body, idempotencyKey: "shared-key");
        var b = await bob.SubmitAsync(body, idempotencyKey: "shared-key");
        var aAgain = await alice.SubmitAsync(body, idempotencyKey: "shared-key");

        Assert.NotEqual(a.JobId(), b.JobId());
        Assert.Equal(a.JobId(), aAgain.JobId());
        Assert.Equal(2, app.Received(KieSubmitPath).Count);
    }

    [Theory, BothDatabases]
    public async Task Concurrent_identical_requests_make_one_job_and_one_provider_submission(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        // Slow enough that every duplicate arrives while the first is still talking to the provider.
        var body = Kie(sourceTaskId: "idem-concurrent~never~slow=300");

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 10).Select(async _ =>
        {
            await start.WaitAsync();
            return await app.Driver.SubmitAsync(body, idempotencyKey: "burst-1");
        }).ToList();
        start.Release(10);
        var jobs = await Task.WhenAll(requests);

        Assert.Single(jobs.Select(j => j.JobId()).Distinct());
        Assert.All(jobs, j => Assert.False(string.IsNullOrEmpty(j.GetProperty("providerTaskId").GetString())));
        Assert.Single(app.Received(KieSubmitPath));
        Assert.Single(await app.Driver.FeedAsync(limit: 100), e => e.Type() == "video.extension.submitted");
    }

    [Theory, BothDatabases]
    public async Task After_a_rate_limit_refusal_the_same_key_and_body_may_be_retried_and_then_submit(Db db)
    {
        var limiter = new FirstCallsRateLimited(calls: 1);
        await using var app = await TestApp.StartAsync(db, services: services =>
            services.Configure<HttpClientFactoryOptions>(ProviderHttpClients.Submit(KieProvider.Name),
                o => o.HttpMessageHandlerBuilderActions.Add(b => b.AdditionalHandlers.Add(new RateLimitHandler(limiter)))));
        var body = Kie(sourceTaskId: "idem-retry~never");

        using var refused = await app.Driver.PostJsonAsync("/v1/extensions", body, "retry-1");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        Assert.Empty(app.Received(KieSubmitPath));

        var accepted = await app.Driver.SubmitAsync(body, idempotencyKey: "retry-1");
        Assert.False(string.IsNullOrEmpty(accepted.GetProperty("providerTaskId").GetString()));
        Assert.Single(app.Received(KieSubmitPath));

        // And from then on the key means that accepted job.
        var replay = await app.Driver.SubmitAsync(body, idempotencyKey: "retry-1");
        Assert.Equal(accepted.JobId(), replay.JobId());
        Assert.Single(app.Received(KieSubmitPath));
    }

    [Fact]
    public async Task Retrying_after_a_simulated_rate_limit_with_the_same_key_reaches_the_provider_again()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var body = Kie(sourceTaskId: "idem-429~status=429~retryafter=7");

        using var first = await app.Driver.PostJsonAsync("/v1/extensions", body, "retry-2");
        using var second = await app.Driver.PostJsonAsync("/v1/extensions", body, "retry-2");

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        // A certain refusal frees the key: the retry was a real new attempt, not a replay of the refusal.
        Assert.Equal(2, app.Received(KieSubmitPath).Count);
    }

    [Fact]
    public async Task Idempotency_key_longer_than_200_characters_is_a_validation_problem_and_submits_nothing()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);

        using var response = await app.Driver.PostJsonAsync("/v1/extensions", Kie(sourceTaskId: "idem-long~never"), new string('k', 201));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
        Assert.Empty(app.Received(KieSubmitPath));
    }

    private sealed class FirstCallsRateLimited(int calls)
    {
        private int _remaining = calls;

        public bool Take() => Interlocked.Decrement(ref _remaining) >= 0;
    }

    /// <summary>Answers like Kie's rate limit (HTTP 200, body code 429) for the first calls, then lets requests through.</summary>
    private sealed class RateLimitHandler(FirstCallsRateLimited limiter) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && limiter.Take())
            {
                var response = new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent("""{"code":429,"msg":"Rate limited"}""", System.Text.Encoding.UTF8, "application/json"),
                };
                response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
                return Task.FromResult(response);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Theory, BothDatabases]
    public async Task Metadata_in_another_order_is_the_same_body(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var first = Kie(sourceTaskId: "idem-metadata~never");
        first["metadata"] = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" };
        var reordered = Kie(sourceTaskId: "idem-metadata~never");
        reordered["metadata"] = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };

        var a = await app.Driver.SubmitAsync(first, idempotencyKey: "order-meta");
        var b = await app.Driver.SubmitAsync(reordered, idempotencyKey: "order-meta");

        Assert.Equal(a.JobId(), b.JobId());
        Assert.Single(app.Received(KieSubmitPath));
    }

    [Theory, BothDatabases]
    public async Task A_key_older_than_the_idempotency_lifetime_is_a_new_request(Db db)
    {
        await using var app = await TestApp.StartAsync(db, s => s["Idempotency:Lifetime"] = "00:00:01");
        var body = Kie(sourceTaskId: "idem-expired~never");
        var first = await app.Driver.SubmitAsync(body, idempotencyKey: "order-expiring");

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var later = await app.Driver.SubmitAsync(body, idempotencyKey: "order-expiring");
        // A different body under an expired key is not a conflict either.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var other = await app.Driver.SubmitAsync(Kie(sourceTaskId: "idem-expired-2~never"), idempotencyKey: "order-expiring");

        Assert.NotEqual(first.JobId(), later.JobId());
        Assert.NotEqual(later.JobId(), other.JobId());
        Assert.Equal(3, app.Received(KieSubmitPath).Count);
        // The first job stays: jobs are the record, only the key was forgotten.
        Assert.Equal(first.JobId(), (await app.Driver.JobAsync(first.JobId())).JobId());
    }
}
