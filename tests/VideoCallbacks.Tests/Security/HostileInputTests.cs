using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defects 3, 4, 6 and 9: hostile or sloppy input gets a 400 that names the problem, and nothing else happens.</summary>
public sealed class HostileInputTests
{
    [Theory]
    [InlineData("/v1/admin/events/purge", """{"status":"failed","dry_run":true}""", "dry_run")]
    [InlineData("/v1/admin/events/purge", """{"status":"failed","dryRun ":true}""", "dryRun ")]
    [InlineData("/v1/admin/events/replay", """{"status":"failed","dry_run":true}""", "dry_run")]
    [InlineData("/v1/admin/events/replay", """{"dryrun":true,"forse":true}""", "forse")]
    public async Task A_misspelled_admin_body_field_is_refused_naming_it_instead_of_running_for_real(string path, string body, string field)
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var admin = app.Driver.Admin;

        using var response = await admin.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name '{field}': {problem}");
        Assert.Contains("not a field", problem.GetProperty("detail").GetString());
        Assert.Empty((await (await admin.GetAsync("/v1/admin/audit")).JsonAsync()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_correctly_spelled_dry_run_still_only_counts()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var admin = app.Driver.Admin;

        using var response = await admin.PostAsync("/v1/admin/events/purge",
            new StringContent("""{"status":"failed","dryRun":true}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("dryRun").GetBoolean());
    }

    [Fact]
    public async Task A_null_metadata_value_is_refused_naming_the_entry()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var client = app.Driver.Http;

        using var response = await client.PostAsync("/v1/extensions", new StringContent(
            """{"provider":"kie","sourceTaskId":"src-null-meta","index":0,"mode":"auto","metadata":{"ok":"yes","customer":null}}""",
            System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors").GetProperty("metadata");
        Assert.Contains(errors.EnumerateArray(), e => e.GetString()!.Contains("'customer'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_malformed_query_value_is_a_short_400_and_never_an_error_log()
    {
        var logs = new FakeLoggerProvider();
        await using var app = await TestApp.StartAsync(Db.Sqlite, s => s["Logging:LogLevel:Default"] = "Debug",
            services => services.AddSingleton<ILoggerProvider>(logs));
        var client = app.Driver.Http;
        var huge = new string('9', 5000);

        foreach (var query in new[] { "after=abc", $"after={huge}", "limit=lots" })
        {
            using var response = await client.GetAsync($"/v1/events?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(text.Length < 1000, $"the problem should be short, not echo the input: {text.Length} characters");
        }

        var records = logs.Collector.GetSnapshot();
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Error);
        Assert.DoesNotContain(records, r => r.Message.Contains(huge[..300], StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_event_stream_refuses_a_negative_after_like_the_feed_does()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var client = app.Driver.Http;

        using var page = await client.GetAsync("/v1/events?after=-1");
        using var stream = await client.GetAsync("/v1/events/stream?after=-1", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, stream.StatusCode);
    }

    [Theory, BothDatabases]
    public async Task A_backwards_time_range_is_a_400_on_every_admin_filter(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var admin = app.Driver.Admin;
        const string range = "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z";

        using var events = await admin.GetAsync($"/v1/admin/events?{range}");
        using var callbacks = await admin.GetAsync($"/v1/admin/callbacks?{range}");
        using var replay = await admin.PostJsonAsync("/v1/admin/events/replay", new { since = "2026-02-01T00:00:00Z", until = "2026-01-01T00:00:00Z" });

        foreach (var response in new[] { events, callbacks, replay })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("until", out _));
        }
    }
}
