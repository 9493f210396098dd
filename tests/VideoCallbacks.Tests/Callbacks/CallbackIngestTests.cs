namespace VideoCallbacks.Tests.Callbacks;

/// <summary>Genuine callbacks over real HTTP: stored before the answer, normalized into exactly the right events.</summary>
[StartsFirst]
public sealed class CallbackIngestTests
{
    private const string Submitted = "video.extension.submitted";
    private const string Progress = "video.extension.progress";
    private const string Completed = "video.extension.completed";
    private const string Failed = "video.extension.failed";

    [Theory, BothDatabases]
    public async Task Every_documented_Kie_callback_body_is_stored_and_gives_its_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        (string Fixture, string Type, int Urls, string? Code, string? Message)[] cases =
        [
            ("kie/callback-success.json", Completed, 4, null, null),
            ("kie/callback-success-taskid-top-level.json", Completed, 1, null, null),
            ("kie/callback-success-data-task_id.json", Completed, 2, null, null),
            ("kie/callback-success-unknown-fields.json", Completed, 2, null, null),
            ("kie/callback-failure.json", Failed, 0, "kie_500", "Internal error while generating the video"),
            ("kie/callback-failure-501.json", Failed, 0, "kie_501", "Generation failed: the prompt was flagged"),
        ];
        foreach (var c in cases)
        {
            var hook = await Kit.SubmitForHookAsync(app, KieProvider.Name);
            var body = Fixture.Load(c.Fixture, hook.ProviderTaskId!);

            var ack = await Kit.AckAsync(await Kit.PostKieAsync(app, hook, body));

            Assert.True(ack.GetProperty("received").GetBoolean());
            Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(ack));
            var terminalId = $"{hook.JobId}:{(c.Type == Completed ? "completed" : "failed")}";
            var events = await app.Driver.FeedAsync(hook.JobId);
            Assert.Equal([$"{hook.JobId}:submitted", terminalId], Kit.Ids(events));
            Assert.Equal([Submitted, c.Type], Kit.Types(events));
            AssertEventData(events[^1], hook, c.Type == Completed ? "completed" : "failed", c.Urls, c.Code, c.Message, index: 0);

            // Stored before the answer: raw body, outcome and the event it produced.
            var stored = Assert.Single(await Kit.CallbacksAsync(app), s => s.JobId == hook.JobId);
            Assert.Equal(CallbackOutcomes.Accepted, stored.Outcome);
            Assert.Equal(body, stored.Body);
            Assert.Equal(terminalId, stored.EventId);
            Assert.Equal(KieProvider.Name, stored.Provider);
        }
    }

    [Theory, BothDatabases]
    public async Task Every_documented_Apiframe_callback_body_is_stored_and_gives_its_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var cases = new List<(string Body, string Type, int Progress, int Urls, string? Message)>();
        foreach (var status in new[] { "processing", "starting", "staged", "pending", "retry", "retrying" })
        {
            cases.Add((Fixture.Load("apiframe/progress-template.json", "TASK_ID", ("STATUS", status), ("\"PERCENTAGE\"", "\"40\"")), Progress, 40, 0, null));
            cases.Add((Fixture.Load("apiframe/progress-template.json", "TASK_ID", ("STATUS", status), ("\"PERCENTAGE\"", "35")), Progress, 35, 0, null));
        }
        cases.Add((Fixture.Load("apiframe/progress-processing.json", "TASK_ID"), Progress, 40, 0, null));
        cases.Add((Fixture.Load("apiframe/progress-unknown-fields.json", "TASK_ID"), Progress, 55, 0, null));
        cases.Add((Fixture.Load("apiframe/finished-no-status.json", "TASK_ID"), Completed, 100, 4, null));
        cases.Add((Fixture.Load("apiframe/finished-with-status.json", "TASK_ID"), Completed, 100, 4, null));
        cases.Add((Fixture.Load("apiframe/finished-unknown-fields.json", "TASK_ID"), Completed, 100, 2, null));
        cases.Add((Fixture.Load("apiframe/failed-message.json", "TASK_ID"), Failed, 0, 0, "Job was blocked by the moderation filter"));
        cases.Add((Fixture.Load("apiframe/failed-error.json", "TASK_ID"), Failed, 0, 0, "Midjourney returned an error: parent task expired"));
        cases.Add((Fixture.Load("apiframe/failed-no-status-error.json", "TASK_ID"), Failed, 0, 0, "Invalid parent task"));

        foreach (var c in cases)
        {
            var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
            var body = c.Body.Replace("TASK_ID", hook.ProviderTaskId, StringComparison.Ordinal);

            var ack = await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, body));

            Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(ack));
            var expectedId = c.Type switch
            {
                Progress => $"{hook.JobId}:progress:{c.Progress}",
                Completed => $"{hook.JobId}:completed",
                _ => $"{hook.JobId}:failed",
            };
            var events = await app.Driver.FeedAsync(hook.JobId);
            Assert.Equal([$"{hook.JobId}:submitted", expectedId], Kit.Ids(events));
            var data = events[^1].GetProperty("data");
            Assert.Equal(c.Progress, data.GetProperty("progress").GetInt32());
            Assert.Equal(c.Urls, data.GetProperty("videoUrls").GetArrayLength());
            if (c.Message is not null)
            {
                Assert.Equal("apiframe_failed", data.GetProperty("error").GetProperty("code").GetString());
                Assert.Equal(c.Message, data.GetProperty("error").GetProperty("message").GetString());
            }
            var stored = Assert.Single(await Kit.CallbacksAsync(app), s => s.JobId == hook.JobId);
            Assert.Equal(body, stored.Body);
            Assert.Equal(expectedId, stored.EventId);
            // The shared secret is proof, never data: it is not kept with the callback.
            Assert.DoesNotContain(hook.Secret!, stored.HeadersJson, StringComparison.Ordinal);
        }
    }

    [Theory, BothDatabases]
    public async Task Ten_identical_callbacks_give_one_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        var body = Fixture.Load("kie/callback-success.json", hook.ProviderTaskId!);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Kit.PostKieAsync(app, hook, body)));

        var outcomes = new List<string>();
        foreach (var r in responses) outcomes.Add(Kit.Outcome(await Kit.AckAsync(r)));
        Assert.Equal(1, outcomes.Count(o => o == CallbackOutcomes.Accepted));
        Assert.Equal(9, outcomes.Count(o => o == CallbackOutcomes.Duplicate));
        var events = await app.Driver.FeedAsync(hook.JobId);
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:completed"], Kit.Ids(events));
        var stored = (await Kit.CallbacksAsync(app)).Where(s => s.JobId == hook.JobId).ToList();
        Assert.Equal(10, stored.Count);
        Assert.Single(stored, s => s.Outcome == CallbackOutcomes.Accepted);
        Assert.Equal(9, stored.Count(s => s.Outcome == CallbackOutcomes.Duplicate));
    }

    [Theory, BothDatabases]
    public async Task Ten_identical_callbacks_one_after_another_give_one_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        var body = Fixture.Load("apiframe/finished-no-status.json", hook.ProviderTaskId!);

        var outcomes = new List<string>();
        for (var i = 0; i < 10; i++) outcomes.Add(Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, body))));

        Assert.Equal([CallbackOutcomes.Accepted, .. Enumerable.Repeat(CallbackOutcomes.Duplicate, 9)], outcomes);
        Assert.Single(await app.Driver.FeedAsync(hook.JobId), ServiceApi.IsTerminal);
        Assert.Equal(9, (await Kit.CallbacksAsync(app, CallbackOutcomes.Duplicate)).Count(s => s.JobId == hook.JobId));
    }

    [Theory, BothDatabases]
    public async Task Progress_after_completion_gives_no_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        var task = hook.ProviderTaskId!;
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/progress-processing.json", task)))));
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/finished-no-status.json", task)))));

        var late = Fixture.Load("apiframe/progress-template.json", task, ("STATUS", "processing"), ("\"PERCENTAGE\"", "\"90\""));
        var ack = await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, late));

        Assert.Equal(CallbackOutcomes.Duplicate, Kit.Outcome(ack));
        var events = await app.Driver.FeedAsync(hook.JobId);
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:progress:40", $"{hook.JobId}:completed"], Kit.Ids(events));
        var job = await app.Driver.JobAsync(hook.JobId);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(100, job.GetProperty("progress").GetInt32());
    }

    [Theory, BothDatabases]
    public async Task Progress_never_goes_backwards(Db db)
    {
        // The ~nocallback job must stay processing: reconciliation would find it completed at the provider.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        string At(int p) => Fixture.Load("apiframe/progress-template.json", hook.ProviderTaskId!, ("STATUS", "processing"), ("\"PERCENTAGE\"", $"\"{p}\""));

        var outcomes = new List<string>();
        foreach (var p in new[] { 60, 40, 60, 80, 70 })
        {
            outcomes.Add(Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, At(p)))));
        }

        Assert.Equal([CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate, CallbackOutcomes.Duplicate, CallbackOutcomes.Accepted, CallbackOutcomes.Duplicate], outcomes);
        var events = await app.Driver.FeedAsync(hook.JobId);
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:progress:60", $"{hook.JobId}:progress:80"], Kit.Ids(events));
        Assert.Equal([60, 80], events.Skip(1).Select(e => e.GetProperty("data").GetProperty("progress").GetInt32()));
        var job = await app.Driver.JobAsync(hook.JobId);
        Assert.Equal("processing", job.GetProperty("status").GetString());
        Assert.Equal(80, job.GetProperty("progress").GetInt32());
    }

    [Theory]
    [BothDatabases("kie/callback-success.json", "kie/callback-failure.json", "completed")]
    [BothDatabases("kie/callback-failure-501.json", "kie/callback-success.json", "failed")]
    public async Task Conflicting_terminal_report_is_recorded_as_an_anomaly_and_the_first_state_stays(Db db, string first, string second, string status)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(await Kit.PostKieAsync(app, hook, Fixture.Load(first, hook.ProviderTaskId!)))));

        // Answered 2xx: the provider must stop resending, and nothing about the job changes.
        var ack = await Kit.AckAsync(await Kit.PostKieAsync(app, hook, Fixture.Load(second, hook.ProviderTaskId!)));

        Assert.Equal(CallbackOutcomes.Duplicate, Kit.Outcome(ack));
        var events = await app.Driver.FeedAsync(hook.JobId);
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:{status}"], Kit.Ids(events));
        Assert.Equal(status, (await app.Driver.JobAsync(hook.JobId)).GetProperty("status").GetString());
        var stored = (await Kit.CallbacksAsync(app)).Where(s => s.JobId == hook.JobId).ToList();
        Assert.Equal(2, stored.Count);
        Assert.Null(stored[1].EventId);
        Assert.StartsWith("anomaly", stored[1].Reason, StringComparison.Ordinal);
    }

    [Theory, BothDatabases]
    public async Task Apiframe_failure_after_finished_is_an_anomaly_and_the_job_stays_completed(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/finished-with-status.json", hook.ProviderTaskId!)));

        var ack = await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/failed-message.json", hook.ProviderTaskId!)));

        Assert.Equal(CallbackOutcomes.Duplicate, Kit.Outcome(ack));
        var events = await app.Driver.FeedAsync(hook.JobId);
        Assert.Single(events, ServiceApi.IsTerminal);
        Assert.Equal($"{hook.JobId}:completed", events[^1].GetProperty("id").GetString());
        var job = await app.Driver.JobAsync(hook.JobId);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind);
        Assert.Contains(await Kit.CallbacksAsync(app), s => s.JobId == hook.JobId && s.Reason is not null && s.Reason.StartsWith("anomaly", StringComparison.Ordinal));
    }

    [Theory, BothDatabases]
    public async Task Event_ids_are_derived_from_job_and_state(Db db)
    {
        await using var app = await TestApp.StartAsync(db);
        var hook = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/progress-processing.json", hook.ProviderTaskId!)));
        await Kit.AckAsync(await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/finished-no-status.json", hook.ProviderTaskId!)));

        var events = await app.Driver.FeedAsync(hook.JobId);

        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:progress:40", $"{hook.JobId}:completed"], Kit.Ids(events));
        Assert.Equal([Submitted, Progress, Completed], Kit.Types(events));
        Assert.All(events, e =>
        {
            Assert.Equal("1.0", e.GetProperty("specversion").GetString());
            Assert.Equal("/providers/apiframe", e.GetProperty("source").GetString());
            Assert.Equal(hook.JobId, e.GetProperty("subject").GetString());
        });
        var sequences = events.Select(e => e.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
        // The job view lists the same ids.
        var job = await app.Driver.JobAsync(hook.JobId);
        Assert.Equal(Kit.Ids(events), job.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!));
    }

    [Theory]
    [BothDatabases(KieProvider.Name, """{"hello":"world"}""")]
    [BothDatabases(KieProvider.Name, "this is not json")]
    [BothDatabases(KieProvider.Name, """{"code":200,"msg":"success","data":{"taskId":"TASK_ID","resultUrls":[]}}""")]
    [BothDatabases(ApiframeProvider.Name, """{"task_id":"TASK_ID","status":"exploded","percentage":"10"}""")]
    [BothDatabases(ApiframeProvider.Name, """["not","an","object"]""")]
    public async Task Verified_body_that_cannot_be_understood_is_kept_as_failed_and_answered_200(Db db, string provider, string template)
    {
        // The ~nocallback job must stay submitted until the good callback: no reconciliation.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var hook = await Kit.SubmitForHookAsync(app, provider);
        var body = template.Replace("TASK_ID", hook.ProviderTaskId, StringComparison.Ordinal);

        var response = provider == KieProvider.Name ? await Kit.PostKieAsync(app, hook, body) : await Kit.PostApiframeAsync(app, hook, body);

        // 200, so the provider stops resending the same bytes; kept for operators to reprocess.
        var ack = await Kit.AckAsync(response);
        Assert.Equal(CallbackOutcomes.Failed, Kit.Outcome(ack));
        var stored = Assert.Single(await Kit.CallbacksAsync(app, CallbackOutcomes.Failed));
        Assert.Equal(hook.JobId, stored.JobId);
        Assert.Equal(body, stored.Body);
        Assert.False(string.IsNullOrWhiteSpace(stored.Reason));
        Assert.Null(stored.EventId);
        Assert.Equal([$"{hook.JobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(hook.JobId)));
        Assert.Equal("submitted", (await app.Driver.JobAsync(hook.JobId)).GetProperty("status").GetString());

        // The job is not poisoned: a good callback afterwards still completes it.
        var good = provider == KieProvider.Name
            ? await Kit.PostKieAsync(app, hook, Fixture.Load("kie/callback-success.json", hook.ProviderTaskId!))
            : await Kit.PostApiframeAsync(app, hook, Fixture.Load("apiframe/finished-no-status.json", hook.ProviderTaskId!));
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(good)));
    }

    [Theory, EachOnBothDatabases(KieProvider.Name, ApiframeProvider.Name)]
    public async Task Callback_that_races_the_submission_is_not_lost(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db);
        // The provider holds its answer to our submit for a while (long, for a slow machine; under the 30 s
        // default provider timeout); its callback comes first.
        var source = Kit.NewSource("~slow=20000~nocallback");
        var submit = Kit.StartSubmitAsync(app, provider, source);
        var hook = await Wait.UntilAsync(
            () => Task.FromResult(Kit.TryFindHook(app, provider, b => b.ToString().Contains(source.Split('~')[0], StringComparison.Ordinal))),
            h => h is not null, "the submission to reach the simulator");
        var taskId = $"raced-{Guid.NewGuid():N}";
        var body = provider == KieProvider.Name
            ? Fixture.Load("kie/callback-success.json", taskId)
            : Fixture.Load("apiframe/finished-no-status.json", taskId);

        var response = provider == KieProvider.Name
            ? await Kit.PostKieAsync(app, hook!, body)
            : await Kit.PostApiframeAsync(app, hook!, body);

        Assert.False(submit.IsCompleted, "the callback was meant to arrive while the submit was still waiting for the provider");
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(response)));
        var submitted = await submit;
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var job = await app.Driver.JobAsync(hook!.JobId);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(taskId, job.GetProperty("providerTaskId").GetString());
        var events = await app.Driver.FeedAsync(hook.JobId);
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:completed"], Kit.Ids(events));
        Assert.True(events[0].GetProperty("sequence").GetInt64() < events[1].GetProperty("sequence").GetInt64());
    }

    private static void AssertEventData(JsonElement e, Hook hook, string status, int urls, string? code, string? message, int index)
    {
        var data = e.GetProperty("data");
        Assert.Equal(hook.JobId, data.GetProperty("jobId").GetString());
        Assert.Equal(hook.Provider, data.GetProperty("provider").GetString());
        Assert.Equal(hook.ProviderTaskId, data.GetProperty("providerTaskId").GetString());
        Assert.Equal(hook.SourceTaskId, data.GetProperty("sourceTaskId").GetString());
        Assert.Equal(index, data.GetProperty("index").GetInt32());
        Assert.Equal(status, data.GetProperty("status").GetString());
        Assert.Equal("order-42", data.GetProperty("correlationId").GetString());
        Assert.Equal(urls, data.GetProperty("videoUrls").GetArrayLength());
        if (code is null)
        {
            Assert.Equal(JsonValueKind.Null, data.GetProperty("error").ValueKind);
            Assert.Equal(100, data.GetProperty("progress").GetInt32());
        }
        else
        {
            Assert.Equal(code, data.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal(message, data.GetProperty("error").GetProperty("message").GetString());
        }
    }
}
