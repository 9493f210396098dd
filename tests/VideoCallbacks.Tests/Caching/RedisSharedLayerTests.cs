using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Caching;

/// <summary>Two instances on one PostgreSQL database and one real redis-server share what issue 11 lists.</summary>
public sealed class RedisSharedLayerTests
{
    [Fact]
    public async Task Callback_on_instance_B_for_a_job_created_on_A_is_verified_without_a_database_read()
    {
        await using var both = await TwoInstances.StartAsync();
        var hook = await Kit.SubmitForHookAsync(both.A, "apiframe");

        var ack = await Kit.AckAsync(await Kit.PostApiframeAsync(both.B, hook,
            Fixture.Load("apiframe/progress-processing.json", hook.ProviderTaskId!), url: both.OnB(hook.CallbackUrl)));

        Assert.Equal("accepted", Kit.Outcome(ack));
        Assert.Equal(0, both.B.Get<JobCredentialCache>().DatabaseReads);
        Assert.Equal(0, both.A.Get<JobCredentialCache>().DatabaseReads);
        Assert.Contains((await both.DumpAsync()).Keys, k => k == $"{both.Prefix}cred:{hook.JobId}");
    }

    [Fact]
    public async Task Idempotent_retry_on_instance_B_is_answered_from_Redis()
    {
        await using var both = await TwoInstances.StartAsync();
        object body = new { provider = "kie", sourceTaskId = Kit.NewSource("~nocallback"), index = 0, prompt = "a slow pan", mode = "manual" };
        var clientA = both.A.Driver;
        var clientB = both.B.Driver;

        var first = await clientA.PostSubmitAsync(body, idempotencyKey: "order-7");
        var retry = await clientB.PostSubmitAsync(body, idempotencyKey: "order-7");
        var other = await clientB.PostSubmitAsync(new { provider = "kie", sourceTaskId = Kit.NewSource(), index = 1, prompt = "x", mode = "manual" },
            idempotencyKey: "order-7");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal((await first.JsonAsync()).GetProperty("jobId").GetString(), (await retry.JsonAsync()).GetProperty("jobId").GetString());
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal(2, both.B.Get<SubmissionAnswerCache>().Hits);
        // B never called its provider: both answers came from what A shared.
        Assert.DoesNotContain(both.B.Get<VideoCallbacks.Simulator.SimulatorState>().Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Client_rate_limit_holds_for_both_instances_together()
    {
        const int burst = 10;
        await using var both = await TwoInstances.StartAsync(s =>
        {
            s["RateLimits:PerKeyPerSecond"] = "1";
            s["RateLimits:PerKeyBurst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        var clientA = both.A.Driver;
        var clientB = both.B.Driver;

        var clock = Stopwatch.StartNew();
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 15; i++)
        {
            statuses.Add(await clientA.Http.GetAsync("/v1/events?after=0&limit=1"));
            statuses.Add(await clientB.Http.GetAsync("/v1/events?after=0&limit=1"));
        }
        var refills = (int)Math.Ceiling(clock.Elapsed.TotalSeconds);

        var allowed = statuses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(statuses.Count, allowed + limited.Count);
        // Per-instance buckets would allow 2 x 10; one shared bucket allows 10 plus one a second.
        Assert.InRange(allowed, burst, burst + refills);
        Assert.All(limited, r => Assert.True(r.Headers.RetryAfter is not null, "429 without Retry-After"));
    }

    [Fact]
    public async Task Event_committed_on_A_reaches_the_SSE_stream_on_B_well_before_B_polls()
    {
        await using var both = await TwoInstances.StartAsync(s =>
        {
            s["Events:PollInterval"] = "00:00:30";
            s["Relay:PollInterval"] = "00:00:30";
        });
        await Wait.UntilAsync(both.WakeupListenersAsync, n => n >= 2, "both instances listening for wake-ups");
        var first = await Kit.SubmitAsync(both.A, "apiframe", "~nocallback");

        using var client = ServiceApi.NewClient(both.B.BaseUrl, TestApp.ClientKey);
        client.Timeout = Timeout.InfiniteTimeSpan;
        using var response = await client.GetAsync("/v1/events/stream?after=0", HttpCompletionOption.ResponseHeadersRead);
        var lines = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
            while (await stream.ReadLineAsync(stop.Token) is { } line) lines.Enqueue(line);
        });
        // B's stream has read what was there and now waits (30 s) for a wake-up.
        await Wait.UntilAsync(() => Task.FromResult(lines.Any(l => l.Contains(first.GetProperty("jobId").GetString()!, StringComparison.Ordinal))),
            seen => seen, "the first job's event on B's stream");

        var second = await Kit.SubmitAsync(both.A, "apiframe", "~nocallback");
        await Wait.UntilAsync(() => Task.FromResult(lines.Any(l => l.Contains(second.GetProperty("jobId").GetString()!, StringComparison.Ordinal))),
            seen => seen, "the second job's event on B's stream before its 30 s poll", TimeSpan.FromSeconds(15));
        await stop.CancelAsync();
        await Task.WhenAny(reader, Task.Delay(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Redis_killed_during_callback_load_loses_no_callback_and_readyz_reports_degraded()
    {
        await using var both = await TwoInstances.StartAsync();
        var hooks = new List<Hook>();
        for (var i = 0; i < 6; i++) hooks.Add(await Kit.SubmitForHookAsync(both.A, "apiframe"));

        var responses = new ConcurrentBag<(int Status, string Body)>();
        var sent = 0;
        async Task SendRoundAsync(int round)
        {
            await Task.WhenAll(hooks.Select(async (hook, i) =>
            {
                var onB = (round + i) % 2 == 1;
                var body = Fixture.Load("apiframe/progress-template.json", hook.ProviderTaskId!, ("STATUS", "processing"), ("PERCENTAGE", (round * 5).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                var response = await Kit.PostApiframeAsync(onB ? both.B : both.A, hook, body, url: onB ? both.OnB(hook.CallbackUrl) : hook.CallbackUrl);
                Interlocked.Increment(ref sent);
                responses.Add(((int)response.StatusCode, await response.Content.ReadAsStringAsync()));
            }));
        }

        for (var round = 1; round <= 5; round++) await SendRoundAsync(round);
        both.Redis.Kill();
        for (var round = 6; round <= 15; round++) await SendRoundAsync(round);

        Assert.All(responses, r => Assert.True(r.Status == 200, $"callback answered {r.Status}: {r.Body}"));
        Assert.Equal(sent, (await Kit.CallbacksAsync(both.A)).Count);
        foreach (var app in new[] { both.A, both.B })
        {
            var ready = await Wait.UntilAsync(() => TwoInstances.ReadyAsync(app), r => r.Redis == RedisStates.Degraded, "redis degraded");
            Assert.True(ready.Status == HttpStatusCode.OK, $"/readyz answered {(int)ready.Status}: {ready.Body}");
        }
    }

    [Fact]
    public async Task Redis_back_after_a_restart_is_shared_again()
    {
        await using var both = await TwoInstances.StartAsync();
        both.Redis.Kill();
        await both.WaitForRedisAsync(RedisStates.Degraded);

        // Down: verified from the database.
        var during = await Kit.SubmitForHookAsync(both.A, "apiframe");
        Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(both.B, during,
            Fixture.Load("apiframe/progress-processing.json", during.ProviderTaskId!), url: both.OnB(during.CallbackUrl))));
        var readsWhileDown = both.B.Get<JobCredentialCache>().DatabaseReads;
        Assert.Equal(1, readsWhileDown);

        await both.Redis.StartAgainAsync();
        await both.WaitForRedisAsync(RedisStates.Up);

        var after = await Kit.SubmitForHookAsync(both.A, "apiframe");
        Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(both.B, after,
            Fixture.Load("apiframe/progress-processing.json", after.ProviderTaskId!), url: both.OnB(after.CallbackUrl))));
        Assert.Equal(readsWhileDown, both.B.Get<JobCredentialCache>().DatabaseReads);
        await Wait.UntilAsync(both.WakeupListenersAsync, n => n >= 2, "both instances listening for wake-ups again");
    }

    [Fact]
    public async Task Nothing_secret_is_stored_in_Redis()
    {
        const string kieHmacKey = "test-kie-webhook-hmac-key-for-redis";
        await using var both = await TwoInstances.StartAsync(s => s["Providers:Kie:WebhookHmacKey"] = kieHmacKey);
        var apiframe = await Kit.SubmitForHookAsync(both.A, "apiframe");
        var kie = await Kit.SubmitForHookAsync(both.A, "kie");
        await Kit.AckAsync(await Kit.PostApiframeAsync(both.B, apiframe,
            Fixture.Load("apiframe/finished-with-status.json", apiframe.ProviderTaskId!), url: both.OnB(apiframe.CallbackUrl)));
        await Kit.AckAsync(await Kit.PostKieAsync(both.B, kie, Fixture.Load("kie/callback-success.json", kie.ProviderTaskId!), key: kieHmacKey,
            url: both.OnB(kie.CallbackUrl)));
        var client = both.B.Driver;
        await client.PostSubmitAsync(new { provider = "kie", sourceTaskId = Kit.NewSource("~nocallback"), index = 0, prompt = "p", mode = "manual" },
            idempotencyKey: "secret-scan");

        var dump = await both.DumpAsync();
        Assert.Contains(dump.Keys, k => k.Contains(":cred:", StringComparison.Ordinal));
        Assert.Contains(dump.Keys, k => k.Contains(":idem:", StringComparison.Ordinal));
        Assert.Contains(dump.Keys, k => k.Contains(":ratelimit:", StringComparison.Ordinal));
        string[] secrets = [TestApp.ClientKey, TestApp.OtherClientKey, TestApp.AdminKey, apiframe.Token, apiframe.Secret!, kie.Token, kieHmacKey,
            SandboxOptions.ApiKeyFor("kie"), SandboxOptions.ApiKeyFor("apiframe"), SandboxOptions.ApiKeyFor("nanogpt")];
        foreach (var (key, value) in dump)
        {
            foreach (var secret in secrets)
            {
                Assert.False(key.Contains(secret, StringComparison.Ordinal) || value.Contains(secret, StringComparison.Ordinal),
                    $"Redis key {key} holds a secret in clear text.");
            }
        }
    }

    [Fact]
    public async Task Redis_going_down_and_coming_back_is_logged_once_each_way_not_per_request()
    {
        var logs = new CapturedLogs();
        await using var both = await TwoInstances.StartAsync(s => s["Logging:LogLevel:VideoCallbacks.Api.Caching"] = "Information",
            s => s.AddSingleton<ILoggerProvider>(logs));
        var hooks = new List<Hook>();
        for (var i = 0; i < 3; i++) hooks.Add(await Kit.SubmitForHookAsync(both.A, "apiframe"));

        both.Redis.Kill();
        await both.WaitForRedisAsync(RedisStates.Degraded);
        foreach (var hook in hooks)
        {
            for (var round = 0; round < 5; round++)
            {
                await Kit.AckAsync(await Kit.PostApiframeAsync(both.B, hook,
                    Fixture.Load("apiframe/progress-processing.json", hook.ProviderTaskId!), url: both.OnB(hook.CallbackUrl)));
            }
        }
        await both.Redis.StartAgainAsync();
        await both.WaitForRedisAsync(RedisStates.Up);

        var redisLines = logs.Entries.Where(e => e.Category == typeof(RedisConnection).FullName).ToList();
        // Two instances: each says "unreachable" once and "up" twice (at start and on return).
        Assert.Equal(2, redisLines.Count(e => e.Level == LogLevel.Warning));
        Assert.Equal(4, redisLines.Count(e => e.Level == LogLevel.Information));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_Redis_that_stops_answering_holds_no_request()
    {
        await using var both = await TwoInstances.StartAsync();
        await both.Redis.PauseAsync();
        try
        {
            // New jobs: every credential lookup misses memory and has to give up on Redis, then read the database.
            for (var i = 0; i < 3; i++)
            {
                var hook = await Kit.SubmitForHookAsync(both.A, "apiframe");
                var ack = await Kit.AckAsync(await Kit.PostApiframeAsync(both.B, hook,
                    Fixture.Load("apiframe/progress-processing.json", hook.ProviderTaskId!), url: both.OnB(hook.CallbackUrl)));
                Assert.Equal("accepted", Kit.Outcome(ack));
            }
            Assert.Equal(3, both.B.Get<JobCredentialCache>().DatabaseReads);
            var ready = await TwoInstances.ReadyAsync(both.B);
            Assert.Equal(HttpStatusCode.OK, ready.Status);
        }
        finally
        {
            await both.Redis.ResumeAsync();
        }
    }

    [Fact]
    public async Task Service_started_while_Redis_is_unreachable_is_ready_and_works_from_the_database()
    {
        await using var redis = await RedisServer.StartAsync();
        redis.Kill();
        await using var app = await TestApp.StartAsync(Db.Postgres, s => s["Cache:Redis:Configuration"] = redis.Configuration);

        var ready = await Wait.UntilAsync(() => TwoInstances.ReadyAsync(app), r => r.Redis == RedisStates.Degraded, "redis degraded");
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        // The whole path without Redis: submit, the sandbox provider's callbacks verified, events committed.
        var job = await Kit.SubmitAsync(app, "kie");
        var events = await app.Driver.WaitForTerminalEventAsync(job.GetProperty("jobId").GetString()!);
        Assert.Equal("video.extension.completed", Kit.Types(events)[^1]);
    }

    [Theory]
    [InlineData("Cache:Redis:OperationTimeout", "00:00:30")]
    [InlineData("Cache:Redis:Prefix", "")]
    [InlineData("Cache:Redis:Configuration", "127.0.0.1:6379,nonsense=1")]
    public async Task Unusable_Redis_settings_stop_the_service_at_startup(string key, string value)
    {
        var e = await TestApp.StartFailureAsync(Db.Sqlite, s => s[key] = value);
        Assert.Contains(key.Split(':')[^1], e.ToString(), StringComparison.Ordinal);
    }
}
