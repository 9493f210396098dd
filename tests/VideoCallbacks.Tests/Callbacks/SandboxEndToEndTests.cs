namespace VideoCallbacks.Tests.Callbacks;

/// <summary>The sandbox end to end: submit, and the simulated provider's own callbacks (or polling) finish the job.</summary>
[StartsFirst]
public sealed class SandboxEndToEndTests
{
    [Theory, EachOnBothDatabases(KieProvider.Name, ApiframeProvider.Name, NanoGptProvider.Name)]
    public async Task Sandbox_submission_ends_with_its_completed_event(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var job = await Kit.SubmitAsync(app, provider);
        var (jobId, taskId) = (job.GetProperty("jobId").GetString()!, job.GetProperty("providerTaskId").GetString()!);

        var events = await app.Driver.WaitForTerminalEventAsync(jobId);

        Assert.Equal($"{jobId}:submitted", Kit.Ids(events)[0]);
        Assert.Equal($"{jobId}:completed", Kit.Ids(events)[^1]);
        Assert.Single(events, ServiceApi.IsTerminal);
        Assert.All(events.Skip(1).SkipLast(1), e => Assert.Equal("video.extension.progress", e.GetProperty("type").GetString()));
        var data = events[^1].GetProperty("data");
        Assert.Equal(taskId, data.GetProperty("providerTaskId").GetString());
        Assert.Equal("order-42", data.GetProperty("correlationId").GetString());
        Assert.NotEqual(0, data.GetProperty("videoUrls").GetArrayLength());
        if (provider == ApiframeProvider.Name)
        {
            // Apiframe's own updates, 20 and 60, arrive as callbacks before the result.
            Assert.Equal([$"{jobId}:submitted", $"{jobId}:progress:20", $"{jobId}:progress:60", $"{jobId}:completed"], Kit.Ids(events));
        }
        if (provider != NanoGptProvider.Name)
        {
            // The simulator records a callback once it has our answer, which can come after the event is visible:
            // wait for the last one (Apiframe's two updates come before its result).
            var expected = provider == ApiframeProvider.Name ? 3 : 1;
            var delivered = await Wait.UntilAsync(
                () => Task.FromResult(app.Get<SimulatorState>().Callbacks.Where(c => c.TaskId == taskId).ToList()),
                c => c.Count >= expected, $"{expected} callbacks");
            Assert.All(delivered, c => Assert.Equal(200, c.StatusCode));
        }
    }

    [Theory, BothDatabases]
    public async Task Sandbox_with_signed_Kie_callbacks_ends_completed(Db db)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            TestApp.NoReconcile(s);
            s["Providers:Kie:WebhookHmacKey"] = Kit.KieHmacKey;
        });
        var job = await Kit.SubmitAsync(app, KieProvider.Name);
        var jobId = job.GetProperty("jobId").GetString()!;

        var events = await app.Driver.WaitForTerminalEventAsync(jobId);

        Assert.Equal([$"{jobId}:submitted", $"{jobId}:completed"], Kit.Ids(events));
        // The simulator records a callback once it has our answer, which can come after the event is visible.
        var recorded = await Wait.UntilAsync(() => Task.FromResult(app.Get<SimulatorState>().Callbacks),
            callbacks => callbacks.Count > 0, "the simulator to record the callback's answer");
        var delivered = Assert.Single(recorded);
        Assert.Equal(200, delivered.StatusCode);
        Assert.True(delivered.Headers.ContainsKey("X-Webhook-Signature"));
    }

    [Theory]
    [BothDatabases(KieProvider.Name, "~dup=3", "completed")]
    [BothDatabases(KieProvider.Name, "~dup=10~dupconcurrent", "completed")]
    [BothDatabases(KieProvider.Name, "~late", "completed")]
    [BothDatabases(KieProvider.Name, "~late~fail=boom", "failed")]
    [BothDatabases(ApiframeProvider.Name, "~late", "completed")]
    [BothDatabases(ApiframeProvider.Name, "~finished~dup=3", "completed")]
    [BothDatabases(ApiframeProvider.Name, "~progress=5~fail=boom", "failed")]
    public async Task Misbehaving_provider_still_gives_exactly_one_terminal_event(Db db, string provider, string directives, string terminal)
    {
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var job = await Kit.SubmitAsync(app, provider, directives);
        var (jobId, taskId) = (job.GetProperty("jobId").GetString()!, job.GetProperty("providerTaskId").GetString()!);
        var dup = directives.Contains("~dup=10", StringComparison.Ordinal) ? 10 : directives.Contains("~dup=3", StringComparison.Ordinal) ? 3 : 1;
        var late = directives.Contains("~late", StringComparison.Ordinal) ? 1 : 0;
        var progress = provider == ApiframeProvider.Name ? (directives.Contains("~progress=5", StringComparison.Ordinal) ? 5 : 2) : 0;
        var expected = progress + dup + late;

        // Wait for everything the simulator is going to send, not just the first terminal callback.
        var delivered = await Wait.UntilAsync(
            () => Task.FromResult(app.Get<SimulatorState>().Callbacks.Where(c => c.TaskId == taskId).ToList()),
            c => c.Count >= expected, $"{expected} callbacks");

        Assert.Equal(expected, delivered.Count);
        Assert.All(delivered, c => Assert.Equal(200, c.StatusCode));
        var events = await app.Driver.FeedAsync(jobId);
        Assert.Single(events, ServiceApi.IsTerminal);
        Assert.Equal($"{jobId}:{terminal}", Kit.Ids(events)[^1]);
        Assert.Equal(progress + 2, events.Count);
        Assert.Equal(terminal, (await app.Driver.JobAsync(jobId)).GetProperty("status").GetString());
        if (terminal == "failed")
        {
            Assert.Equal("boom", events[^1].GetProperty("data").GetProperty("error").GetProperty("message").GetString());
        }

        var stored = (await Kit.CallbacksAsync(app)).Where(c => c.JobId == jobId).ToList();
        Assert.Equal(expected, stored.Count);
        Assert.Equal(progress + 1, stored.Count(c => c.Outcome == CallbackOutcomes.Accepted));
        Assert.Equal(dup - 1 + late, stored.Count(c => c.Outcome == CallbackOutcomes.Duplicate));
        if (late == 1 && provider == KieProvider.Name)
        {
            Assert.Single(stored, c => c.Reason is not null && c.Reason.StartsWith("anomaly", StringComparison.Ordinal));
        }
    }
}
