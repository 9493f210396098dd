using VideoCallbacks.Api.Providers.NanoGpt;

namespace VideoCallbacks.Tests.Callbacks;

/// <summary>NanoGPT has no webhooks: the service polls it, from a schedule kept in the store.</summary>
[StartsFirst]
public sealed class NanoGptPollingTests
{
    [Theory, EachOnBothDatabases("", "~shape=b")]
    public async Task Polling_goes_through_queued_and_processing_to_completed(Db db, string shape)
    {
        await using var app = await TestApp.StartAsync(db);
        var job = await Kit.SubmitAsync(app, NanoGptProvider.Name, "~steps=3" + shape);
        var jobId = job.GetProperty("jobId").GetString()!;
        var taskId = job.GetProperty("providerTaskId").GetString()!;

        var events = await app.Driver.WaitForTerminalEventAsync(jobId);

        // Queued is no news; each processing answer that rises is one progress event; one terminal event ends it.
        // Shape A reports progress (25, 50); shape B does not, so only its first processing answer is news.
        string[] expected = shape == ""
            ? [$"{jobId}:submitted", $"{jobId}:progress:25", $"{jobId}:progress:50", $"{jobId}:completed"]
            : [$"{jobId}:submitted", $"{jobId}:progress:0", $"{jobId}:completed"];
        Assert.Equal(expected, Kit.Ids(events));
        var data = events[^1].GetProperty("data");
        Assert.Equal("completed", data.GetProperty("status").GetString());
        // The sandbox points result URLs at the simulator's CDN in the same process.
        var self = app.Get<VideoCallbacks.Api.Infrastructure.SelfAddress>().LocalBaseUrl;
        Assert.Equal([$"{self}/sandbox/cdn/{taskId}/0.mp4"], data.GetProperty("videoUrls").EnumerateArray().Select(u => u.GetString()!));
        Assert.Equal(2, data.GetProperty("index").GetInt32());

        // Polling stops at the terminal state.
        var stored = await app.Get<JobReader>().GetJobAsync(jobId, CancellationToken.None);
        Assert.Null(stored!.NextCheckAt);
        Assert.Equal(4, app.Get<SimulatorState>().FindTask(taskId)!.StatusPolls);
        Assert.Single(await app.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
    }

    [Theory, EachOnBothDatabases("", "~shape=b")]
    public async Task Polling_goes_through_queued_and_processing_to_failed(Db db, string shape)
    {
        await using var app = await TestApp.StartAsync(db);
        var job = await Kit.SubmitAsync(app, NanoGptProvider.Name, "~steps=2" + shape + "~fail=out of credits");
        var jobId = job.GetProperty("jobId").GetString()!;

        var events = await app.Driver.WaitForTerminalEventAsync(jobId);

        Assert.Equal("video.extension.submitted", Kit.Types(events)[0]);
        Assert.Equal("video.extension.failed", Kit.Types(events)[^1]);
        Assert.Equal($"{jobId}:failed", events[^1].GetProperty("id").GetString());
        Assert.All(events.Skip(1).SkipLast(1), e => Assert.Equal("video.extension.progress", e.GetProperty("type").GetString()));
        Assert.Single(events, e => e.GetProperty("type").GetString() == "video.extension.progress");
        var error = events[^1].GetProperty("data").GetProperty("error");
        Assert.Equal("nanogpt_failed", error.GetProperty("code").GetString());
        Assert.Equal("out of credits", error.GetProperty("message").GetString());
        var view = await app.Driver.JobAsync(jobId);
        Assert.Equal("failed", view.GetProperty("status").GetString());
        Assert.Equal("out of credits", view.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory, BothDatabases]
    public async Task Status_endpoint_429_pushes_the_next_poll_back_by_Retry_After(Db db)
    {
        // The simulator's status endpoint never rate-limits, so a handler in front of it answers the first poll with 429.
        var limiter = new RateLimitFirstStatusPoll(TimeSpan.FromHours(1));
        await using var app = await TestApp.StartAsync(db, services: s => s.AddHttpClient(ProviderHttpClients.Status(NanoGptProvider.Name)).AddHttpMessageHandler(() => limiter.Handler()));
        var job = await Kit.SubmitAsync(app, NanoGptProvider.Name, "~steps=1");
        var jobId = job.GetProperty("jobId").GetString()!;
        var taskId = job.GetProperty("providerTaskId").GetString()!;
        var store = app.Get<JobReader>();

        var limited = await Wait.UntilAsync(() => store.GetJobAsync(jobId, CancellationToken.None),
            j => j!.CheckAttempts >= 1, "the rate-limited poll to be rescheduled");

        Assert.Equal(1, limiter.Refused);
        // Poll interval is 200 ms; the provider asked for an hour, and gets it.
        Assert.True(limited!.NextCheckAt >= DateTimeOffset.UtcNow + TimeSpan.FromMinutes(50), $"next check at {limited.NextCheckAt}");
        Assert.Equal(0, app.Get<SimulatorState>().FindTask(taskId)!.StatusPolls);
        Assert.Equal([$"{jobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(jobId)));

        // Once that hour is over (moved forward here rather than waited for), polling resumes and finishes the job.
        await app.Get<CheckScheduleStore>().RescheduleCheckAsync(jobId, DateTimeOffset.UtcNow, limited.CheckAttempts, CancellationToken.None);
        var events = await app.Driver.WaitForTerminalEventAsync(jobId);
        Assert.Equal("video.extension.completed", Kit.Types(events)[^1]);
        Assert.Equal(1, limiter.Refused);
    }

    [Theory, BothDatabases]
    public async Task Polling_resumes_after_a_restart(Db db)
    {
        string connectionString;
        string? directory = null;
        if (db == Db.Postgres)
        {
            connectionString = await PostgresServer.CreateDatabaseAsync();
        }
        else
        {
            directory = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            connectionString = $"Data Source={Path.Combine(directory, "restart.db")}";
        }
        // The simulated provider outlives the service instances, as a real one would.
        var provider = new SimulatorState();
        void Shared(IServiceCollection s) => s.AddSingleton(provider);

        try
        {
            string jobId, taskId;
            await using (var first = await TestApp.StartAsync(db, s => s["Providers:NanoGpt:PollInterval"] = "00:00:03", Shared, connectionString))
            {
                var job = await Kit.SubmitAsync(first, NanoGptProvider.Name, "~steps=4");
                jobId = job.GetProperty("jobId").GetString()!;
                taskId = job.GetProperty("providerTaskId").GetString()!;
                // Stop right after the first poll has been answered and its next one scheduled.
                await Wait.UntilAsync(() => first.Get<JobReader>().GetJobAsync(jobId, CancellationToken.None),
                    j => j!.CheckAttempts >= 1, "the first poll");
            }
            var pollsBeforeRestart = provider.FindTask(taskId)!.StatusPolls;
            Assert.InRange(pollsBeforeRestart, 1, 2);

            await using var second = await TestApp.StartAsync(db, null, Shared, connectionString);
            var events = await second.Driver.WaitForTerminalEventAsync(jobId);

            Assert.Equal("video.extension.submitted", Kit.Types(events)[0]);
            Assert.Equal($"{jobId}:completed", Kit.Ids(events)[^1]);
            Assert.Single(events, ServiceApi.IsTerminal);
            var progress = events.Where(e => e.GetProperty("type").GetString() == "video.extension.progress")
                .Select(e => e.GetProperty("data").GetProperty("progress").GetInt32()).ToList();
            Assert.Equal(progress.Order().Distinct(), progress);
            Assert.Equal(5, provider.FindTask(taskId)!.StatusPolls);
        }
        finally
        {
            if (directory is not null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
            }
        }
    }

    /// <summary>Answers the first NanoGPT status poll with 429 + Retry-After; lets everything else through.</summary>
    private sealed class RateLimitFirstStatusPoll(TimeSpan retryAfter)
    {
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public DelegatingHandler Handler() => new Limiter(this);

        private sealed class Limiter(RateLimitFirstStatusPoll owner) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.RequestUri!.AbsolutePath.EndsWith("/api/video/status", StringComparison.Ordinal)
                    && Interlocked.CompareExchange(ref owner._refused, 1, 0) == 0)
                {
                    var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
                    {
                        RequestMessage = request,
                        Content = new StringContent("""{"error":{"message":"Rate limit exceeded","status":429}}""", System.Text.Encoding.UTF8, "application/json"),
                    };
                    response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(owner.RetryAfter);
                    return Task.FromResult(response);
                }
                return base.SendAsync(request, cancellationToken);
            }
        }

        private TimeSpan RetryAfter => retryAfter;
    }
}
