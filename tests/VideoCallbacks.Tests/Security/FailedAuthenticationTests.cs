using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace VideoCallbacks.Tests.Security;

/// <summary>
/// Issue 8, defect 5: wrong or missing API keys are limited per source address and logged under a budget. Issue 18,
/// defect 1: only the failures are throttled, and the address is the client's only through a configured proxy.
/// </summary>
public sealed class FailedAuthenticationTests
{
    [Fact]
    public async Task Wrong_keys_past_the_budget_get_429_with_Retry_After_and_a_bounded_number_of_log_lines()
    {
        var logs = new FakeLoggerProvider();
        await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            // One failure a minute: the bucket cannot refill a token while the 100 requests run, however slow the machine.
            s["RateLimits:FailedAuthPerMinute"] = "1";
            s["Logging:LogLevel:Default"] = "Information";
        }, services => services.AddSingleton<ILoggerProvider>(logs));
        const string wrongKey = "wrong-key-that-must-never-be-logged";
        var wrong = app.Driver.As(wrongKey).Http;
        var none = app.Driver.Anonymous;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await (i % 2 == 0 ? wrong : none).GetAsync("/v1/events");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(response.Headers.RetryAfter?.Delta);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(99, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // Only failures are throttled: a valid key from the same address is still answered.
        var valid = app.Driver.Http;
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/events")).StatusCode);

        var records = logs.Collector.GetSnapshot();
        var authLines = records.Where(r => r.Message.Contains("API-key", StringComparison.Ordinal) || r.Category?.Contains("Authentication", StringComparison.Ordinal) == true
            || r.Category?.Contains("Authorization", StringComparison.Ordinal) == true).ToList();
        Assert.InRange(authLines.Count, 1, 21);
        Assert.DoesNotContain(records, r => r.Message.Contains(wrongKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failed_attempts_from_one_address_do_not_limit_requests_with_a_valid_key_before_the_budget_is_spent()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["RateLimits:FailedAuthPerMinute"] = "5");
        var wrong = app.Driver.As("another-wrong-key").Http;
        var valid = app.Driver.Http;

        for (var i = 0; i < 4; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/events")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/events")).StatusCode);
    }

    [Fact]
    public async Task Bad_keys_from_one_address_never_lock_out_the_valid_client_and_admin_keys()
    {
        // Three failures a minute, not the default 60 (a token a second, which a slow run would see refill mid-test).
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["RateLimits:FailedAuthPerMinute"] = "3");
        var valid = app.Driver.Http;
        var admin = app.Driver.Admin;

        // The probe's attack: made-up keys past the budget trip the throttle, then three more a round keep it tripped.
        for (var i = 0; i < 4; i++)
        {
            using var bad = ServiceApi.NewClient(app.BaseUrl, $"not-a-key-{i}");
            using var _ = await bad.GetAsync("/v1/events");
        }
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 3; i++)
            {
                using var bad = ServiceApi.NewClient(app.BaseUrl, $"not-a-key-again-{round}-{i}");
                using var refused = await bad.GetAsync("/v1/events");
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            }
            using var client = await valid.GetAsync("/v1/events");
            using var operator_ = await admin.GetAsync("/v1/admin/events");
            Assert.Equal(HttpStatusCode.OK, client.StatusCode);
            Assert.Equal(HttpStatusCode.OK, operator_.StatusCode);
        }
    }

    [Fact]
    public async Task Behind_a_configured_proxy_each_forwarded_client_address_has_its_own_budget()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["RateLimits:FailedAuthPerMinute"] = "3";
            s["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        });

        var attacker = await FailuresFromAsync(app, forwardedFor: "203.0.113.9", count: 6);
        var neighbour = await FailuresFromAsync(app, forwardedFor: "203.0.113.10", count: 1);

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 3), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], attacker);
        Assert.Equal([HttpStatusCode.Unauthorized], neighbour);
    }

    [Fact]
    public async Task Without_a_configured_proxy_X_Forwarded_For_is_ignored()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["RateLimits:FailedAuthPerMinute"] = "3");

        // A caller rotating made-up forwarded addresses is still one address: the connection's.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++) statuses.AddRange(await FailuresFromAsync(app, forwardedFor: $"198.51.100.{i}", count: 1));

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 3), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
    }

    private static async Task<List<HttpStatusCode>> FailuresFromAsync(TestApp app, string forwardedFor, int count)
    {
        var client = app.Driver.As("a-wrong-key-for-the-proxy-test").Http;
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        return statuses;
    }
}
