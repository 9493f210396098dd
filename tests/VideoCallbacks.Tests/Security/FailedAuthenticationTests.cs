using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 5: wrong or missing API keys are limited per source address and logged under a budget.</summary>
public sealed class FailedAuthenticationTests
{
    [Fact]
    public async Task Wrong_keys_past_the_budget_get_429_with_Retry_After_and_a_bounded_number_of_log_lines()
    {
        var logs = new FakeLoggerProvider();
        await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["RateLimits:FailedAuthPerMinute"] = "5";
            s["Logging:LogLevel:Default"] = "Information";
        }, services => services.AddSingleton<ILoggerProvider>(logs));
        const string wrongKey = "wrong-key-that-must-never-be-logged";
        using var wrong = app.Client(wrongKey);
        using var none = app.Client(apiKey: null);

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

        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(95, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // While the address is throttled its keys are not even checked, so guessing gains nothing.
        using var valid = app.Client();
        Assert.Equal(HttpStatusCode.TooManyRequests, (await valid.GetAsync("/v1/events")).StatusCode);

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
        using var wrong = app.Client("another-wrong-key");
        using var valid = app.Client();

        for (var i = 0; i < 4; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/events")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/events")).StatusCode);
    }
}
