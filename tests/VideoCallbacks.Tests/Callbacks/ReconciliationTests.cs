namespace VideoCallbacks.Tests.Callbacks;

/// <summary>No completion is lost: a Kie or Apiframe job whose callback never comes is settled by asking the provider.</summary>
public sealed class ReconciliationTests
{
    private static Action<Dictionary<string, string?>> Reconcile(string giveUpAfter) => s =>
    {
        s["Reconcile:After"] = "00:00:00.300";
        s["Reconcile:GiveUpAfter"] = giveUpAfter;
        s["Reconcile:MaxInterval"] = "00:00:01";
    };

    [Theory, EachOnBothDatabases(KieProvider.Name, ApiframeProvider.Name)]
    public async Task Silent_job_is_found_completed_at_the_provider(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db, Reconcile("00:01:00"));
        var (jobId, taskId, events) = await SettleAsync(app, provider, "~nocallback", "completed");

        Assert.Equal(4, events[^1].GetProperty("data").GetProperty("videoUrls").GetArrayLength());
        Assert.Empty(app.Get<SimulatorState>().Callbacks);
        Assert.True(StatusQueries(app, provider, taskId) >= 1);
        Assert.Equal("completed", (await app.Driver.JobAsync(jobId)).GetProperty("status").GetString());
    }

    [Theory]
    [BothDatabases(KieProvider.Name, "kie_501")]
    [BothDatabases(ApiframeProvider.Name, "apiframe_failed")]
    public async Task Silent_job_is_found_failed_with_the_providers_message(Db db, string provider, string code)
    {
        await using var app = await TestApp.StartAsync(db, Reconcile("00:01:00"));
        var (jobId, taskId, events) = await SettleAsync(app, provider, "~nocallback~fail=boom", "failed");

        var error = events[^1].GetProperty("data").GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("boom", error.GetProperty("message").GetString());
        Assert.True(StatusQueries(app, provider, taskId) >= 1);
    }

    [Theory, EachOnBothDatabases(KieProvider.Name, ApiframeProvider.Name)]
    public async Task Job_that_never_finishes_fails_with_provider_timeout_after_GiveUpAfter(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db, Reconcile("00:00:03"));
        var (jobId, taskId, events) = await SettleAsync(app, provider, "~never", "failed");

        Assert.Equal(ErrorCodes.ProviderTimeout, events[^1].GetProperty("data").GetProperty("error").GetProperty("code").GetString());
        // It kept asking (with backoff) until the deadline.
        Assert.True(StatusQueries(app, provider, taskId) >= 2);
        var view = await app.Driver.JobAsync(jobId);
        Assert.Equal("failed", view.GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.ProviderTimeout, view.GetProperty("error").GetProperty("code").GetString());
        var created = view.GetProperty("createdAt").GetDateTimeOffset();
        Assert.True(events[^1].GetProperty("time").GetDateTimeOffset() >= created + TimeSpan.FromSeconds(3));
    }

    [Theory, BothDatabases]
    public async Task Job_whose_callbacks_were_all_refused_is_still_found_completed(Db db)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            Reconcile("00:01:00")(s);
            s["Providers:Kie:WebhookHmacKey"] = Kit.KieHmacKey;
        });
        await SettleAsync(app, KieProvider.Name, "~wrongsecret", "completed");

        Assert.All(app.Get<SimulatorState>().Callbacks, c => Assert.Equal(401, c.StatusCode));
    }

    /// <summary>
    /// Submits a job the simulator handles per <paramref name="directives"/>, waits for its terminal event and checks
    /// it is the only one and is <paramref name="terminal"/> (completed or failed).
    /// </summary>
    private static async Task<(string JobId, string TaskId, List<JsonElement> Events)> SettleAsync(TestApp app, string provider, string directives, string terminal)
    {
        var job = await Kit.SubmitAsync(app, provider, directives);
        var (jobId, taskId) = (job.GetProperty("jobId").GetString()!, job.GetProperty("providerTaskId").GetString()!);
        var events = await app.Driver.WaitForTerminalEventAsync(jobId);
        Assert.Equal($"{jobId}:{terminal}", Kit.Ids(events)[^1]);
        Assert.Single(events, ServiceApi.IsTerminal);
        return (jobId, taskId, events);
    }

    private static int StatusQueries(TestApp app, string provider, string taskId) =>
        app.Get<SimulatorState>().Requests.Count(r => r.Provider == provider && (provider == KieProvider.Name
            ? r.Path.Contains("/record-info?", StringComparison.Ordinal) && r.Path.Contains(taskId, StringComparison.Ordinal)
            : r.Path.EndsWith("/fetch", StringComparison.Ordinal) && TaskIdOf(r.Body) == taskId));

    private static string? TaskIdOf(string body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("task_id", out var t) ? t.GetString() : null;
    }
}
