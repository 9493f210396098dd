using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Tests.Submission;

public sealed class ServiceBasicsTests
{
    [Fact]
    public async Task Health_and_readiness_answer_without_a_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var anonymous = app.Driver.As(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.JsonAsync();
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("storeReachable").GetBoolean());
        // The outbox backlog is reported for operators; a fresh service has none.
        var outbox = body.GetProperty("outbox");
        Assert.Equal(0, outbox.GetProperty("pending").GetInt64());
        Assert.Equal(0, outbox.GetProperty("failed").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, outbox.GetProperty("oldestPendingSeconds").ValueKind);
    }

    [Theory, BothDatabases]
    public async Task Requests_without_a_valid_api_key_get_a_401_problem(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var anonymous = app.Driver.As(null);
        var wrong = app.Driver.As("not-a-configured-key-at-all-000000");

        foreach (var client in new[] { anonymous, wrong })
        {
            using var post = await client.PostJsonAsync("/v1/extensions", Kie());
            Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
            Assert.Equal("application/problem+json", await ProblemContentTypeAsync(post));
            Assert.Equal(401, (await post.JsonAsync()).GetProperty("status").GetInt32());

            using var get = await client.GetAsync("/v1/extensions/job_123");
            Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
            Assert.Equal("application/problem+json", await ProblemContentTypeAsync(get));
        }
        Assert.Empty(app.Received(KieSubmitPath));
    }

    [Fact]
    public async Task Admin_key_may_use_the_client_api()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var admin = app.Driver.As(TestApp.AdminKey);

        await admin.SubmitAsync(Kie(sourceTaskId: "admin-submits~never"));
    }

    [Fact]
    public async Task OpenApi_document_is_served_and_describes_the_extensions_endpoint()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var anonymous = app.Driver.As(null);

        using var response = await anonymous.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.JsonAsync();
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/extensions", paths);
        Assert.True(document.GetProperty("paths").GetProperty("/v1/extensions").TryGetProperty("post", out _));
        Assert.Contains("/v1/extensions/{jobId}", paths);
        Assert.Contains(paths, p => p.StartsWith("/v1/events", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("/sandbox", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Body_over_the_limit_is_a_413_problem(bool chunked)
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var json = $$"""{"provider":"kie","sourceTaskId":"big","index":0,"mode":"manual","prompt":"{{new string('x', 200_000)}}"}""";
        HttpContent content = chunked
            ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            : new StringContent(json, Encoding.UTF8, "application/json");
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/extensions") { Content = content };
        if (chunked) request.Headers.TransferEncodingChunked = true;

        using var response = await app.Driver.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", await ProblemContentTypeAsync(response));
        Assert.Equal(413, (await response.JsonAsync()).GetProperty("status").GetInt32());
        Assert.Empty(app.Received(KieSubmitPath));
    }

    [Fact]
    public async Task Per_key_rate_limit_answers_429_with_Retry_After_and_leaves_other_keys_alone()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["RateLimits:PerKeyPerSecond"] = "1";
            s["RateLimits:PerKeyBurst"] = "2";
        });
        var busy = app.Driver;
        var other = app.Driver.As(TestApp.OtherClientKey);

        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var response = await busy.GetAsync("/v1/extensions/job_does_not_exist");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");
            Assert.Equal("application/problem+json", await ProblemContentTypeAsync(limited));
            Assert.Equal(429, (await limited.JsonAsync()).GetProperty("status").GetInt32());
        }
        // Another key has its own budget.
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/v1/extensions/job_does_not_exist")).StatusCode);
    }

    [Theory, BothDatabases]
    public async Task Callback_tokens_and_webhook_secrets_never_appear_in_logs(Db db)
    {
        using var capture = new FakeLoggerProvider();
        await using var app = await TestApp.StartAsync(db,
            s => s["Logging:LogLevel:Default"] = "Trace",
            services => services.AddSingleton<ILoggerProvider>(capture));

        var ids = new[]
        {
            (await app.Driver.SubmitAsync(Kie(sourceTaskId: "logs-kie"))).JobId(),
            (await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "logs-apiframe"))).JobId(),
        };
        await app.Driver.WaitForEventsAsync(ids, "video.extension.completed");
        // Every callback the simulator sent has been answered, so its handling has been logged.
        await Wait.UntilAsync(() => Task.FromResult(app.Get<SimulatorState>().Callbacks),
            callbacks => callbacks.Count >= 2 && callbacks.All(c => c.StatusCode is not null), "callbacks answered");

        var kie = app.SubmissionFor(KieSubmitPath, "taskId", "logs-kie").Json();
        var apiframe = app.SubmissionFor(ApiframeSubmitPath, "parent_task_id", "logs-apiframe").Json();
        var secrets = new[]
        {
            LastSegment(kie.GetProperty("callBackUrl").GetString()!),
            LastSegment(apiframe.GetProperty("webhook_url").GetString()!),
            apiframe.GetProperty("webhook_secret").GetString()!,
        };
        // Everything the loggers were handed, before any formatter: category, message, every state value, exception.
        var messages = capture.Collector.GetSnapshot().Select(r =>
            $"{r.Category}: {r.Message} {string.Join(' ', (r.StructuredState ?? []).Select(kv => $"{kv.Key}={kv.Value}"))} {r.Exception}").ToList();
        Assert.NotEmpty(messages);
        Assert.Contains(messages, m => m.Contains(ids[0], StringComparison.Ordinal));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(messages, m => m.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Service_refuses_to_start_outside_Development_without_api_keys()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
            {
                foreach (var key in s.Keys.Where(k => k.StartsWith("Auth:", StringComparison.Ordinal)).ToList()) s.Remove(key);
            });
        });

        var validation = Assert.IsType<OptionsValidationException>(Unwrap(error));
        Assert.Contains("Auth:ApiKeys", validation.Message);
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerExceptions[0]) : e;

    private static string LastSegment(string url) => url[(url.LastIndexOf('/') + 1)..];
}
