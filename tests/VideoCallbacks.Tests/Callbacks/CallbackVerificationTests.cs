namespace VideoCallbacks.Tests.Callbacks;

/// <summary>Nothing forged gets through: every failed check is a bare 401, publishes nothing, and is recorded for operators.</summary>
public sealed class CallbackVerificationTests
{
    private static readonly string[] Telltales = ["secret", "signature", "token", "timestamp", "task", "job", "hmac", "stale"];

    [Theory, BothDatabases]
    public async Task Kie_signature_cases_are_refused_with_a_bare_401_and_no_event(Db db)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s["Providers:Kie:WebhookHmacKey"] = Kit.KieHmacKey;
            // The ~nocallback jobs must stay submitted until the genuine callback, however long the refusals take.
            TestApp.NoReconcile(s);
        });
        var a = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        var b = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        var body = Fixture.Load("kie/callback-success.json", a.ProviderTaskId!);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var goodSignature = KieCallbacks.Sign(Kit.KieHmacKey, a.ProviderTaskId!, now);

        var refusals = new (string Case, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("signed with the wrong key", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey + "-wrong")),
            ("unsigned", () => Kit.PostKieAsync(app, a, body)),
            ("missing signature", () => app.Driver.PostCallbackAsync(a.CallbackUrl, body, new Dictionary<string, string> { [KieCallbacks.TimestampHeader] = now })),
            ("missing timestamp", () => app.Driver.PostCallbackAsync(a.CallbackUrl, body, new Dictionary<string, string> { [KieCallbacks.SignatureHeader] = goodSignature })),
            ("garbage signature", () => app.Driver.PostCallbackAsync(a.CallbackUrl, body, new Dictionary<string, string>
            {
                [KieCallbacks.TimestampHeader] = now, [KieCallbacks.SignatureHeader] = "bm90IGEgc2lnbmF0dXJl",
            })),
            ("timestamp not Unix seconds", () => app.Driver.PostCallbackAsync(a.CallbackUrl, body, new Dictionary<string, string>
            {
                [KieCallbacks.TimestampHeader] = "2025-01-01T00:00:00Z",
                [KieCallbacks.SignatureHeader] = KieCallbacks.Sign(Kit.KieHmacKey, a.ProviderTaskId!, "2025-01-01T00:00:00Z"),
            })),
            ("stale timestamp (400 s old)", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, skew: TimeSpan.FromSeconds(-400))),
            ("stale timestamp (1 h old)", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, skew: TimeSpan.FromHours(-1))),
            ("future timestamp (400 s ahead)", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, skew: TimeSpan.FromSeconds(400))),
            ("signature over another job's task id", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, signedTaskId: b.ProviderTaskId)),
            ("another job's task id in the body, validly signed for it",
                () => Kit.PostKieAsync(app, a, Fixture.Load("kie/callback-success.json", b.ProviderTaskId!), key: Kit.KieHmacKey, signedTaskId: b.ProviderTaskId)),
            ("another job's token", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, url: a.UrlWith(token: b.Token))),
            ("a made-up token", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, url: a.UrlWith(token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))),
            ("the right job on another provider's path", () => Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, url: a.UrlWith(provider: ApiframeProvider.Name))),
        };

        foreach (var (name, send) in refusals)
        {
            var response = await send();
            await AssertBare401Async(response, name);
        }
        var unknown = await Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, url: a.UrlWith(jobId: "job_0000000000000000000000000000dead"));
        await AssertBare401Async(unknown, "unknown job id");

        // Nothing was published, nothing changed.
        Assert.Equal([$"{a.JobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(a.JobId)));
        Assert.Equal([$"{b.JobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(b.JobId)));
        Assert.Equal("submitted", (await app.Driver.JobAsync(a.JobId)).GetProperty("status").GetString());

        // Operators can see every refusal.
        var rejected = await Kit.CallbacksAsync(app, CallbackOutcomes.Rejected);
        Assert.Equal(refusals.Length, rejected.Count);
        Assert.All(rejected, r =>
        {
            Assert.Equal(a.JobId, r.JobId);
            Assert.False(string.IsNullOrWhiteSpace(r.Reason));
            Assert.Null(r.EventId);
        });
        // Recorded under the provider named in the path it came in on.
        Assert.Single(rejected, r => r.Provider == ApiframeProvider.Name);
        var unmatched = Assert.Single(await Kit.CallbacksAsync(app, CallbackOutcomes.Unmatched));
        Assert.Null(unmatched.JobId);
        Assert.Equal(body, unmatched.Body);
        Assert.Empty(await Kit.CallbacksAsync(app, CallbackOutcomes.Accepted));

        // The genuine callback, even a couple of minutes late, still gets in.
        var genuine = await Kit.AckAsync(await Kit.PostKieAsync(app, a, body, key: Kit.KieHmacKey, skew: TimeSpan.FromSeconds(-120)));
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(genuine));
        Assert.Equal([$"{a.JobId}:submitted", $"{a.JobId}:completed"], Kit.Ids(await app.Driver.FeedAsync(a.JobId)));
    }

    [Theory, BothDatabases]
    public async Task Kie_signature_is_accepted_from_every_task_id_field(Db db)
    {
        await using var app = await TestApp.StartAsync(db, s => s["Providers:Kie:WebhookHmacKey"] = Kit.KieHmacKey);
        foreach (var fixture in new[] { "kie/callback-success.json", "kie/callback-success-taskid-top-level.json", "kie/callback-success-data-task_id.json" })
        {
            var hook = await Kit.SubmitForHookAsync(app, KieProvider.Name);
            var ack = await Kit.AckAsync(await Kit.PostKieAsync(app, hook, Fixture.Load(fixture, hook.ProviderTaskId!), key: Kit.KieHmacKey));
            Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(ack));
            Assert.Single(await app.Driver.FeedAsync(hook.JobId), ServiceApi.IsTerminal);
        }
    }

    [Theory, BothDatabases]
    public async Task Kie_without_a_webhook_key_still_refuses_replayed_timestamps(Db db)
    {
        // The ~nocallback job must stay submitted until the genuine callback: no reconciliation.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var hook = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        var body = Fixture.Load("kie/callback-success.json", hook.ProviderTaskId!);

        await AssertBare401Async(await Kit.PostKieAsync(app, hook, body, key: "whatever", skew: TimeSpan.FromSeconds(-400)), "stale, unsigned mode");
        await AssertBare401Async(await Kit.PostKieAsync(app, hook, body, key: "whatever", skew: TimeSpan.FromSeconds(400)), "future, unsigned mode");
        await AssertBare401Async(await Kit.PostKieAsync(app, hook, Fixture.Load("kie/callback-success.json", "someone-elses-task")), "other task id, unsigned mode");
        Assert.Equal([$"{hook.JobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(hook.JobId)));
        Assert.Equal(3, (await Kit.CallbacksAsync(app, CallbackOutcomes.Rejected)).Count);

        // Unsigned mode: the URL token is the proof.
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(await Kit.PostKieAsync(app, hook, body))));
    }

    [Theory, BothDatabases]
    public async Task Apiframe_secret_cases_are_refused_with_a_bare_401_and_no_event(Db db)
    {
        // The ~nocallback jobs must stay submitted until the genuine callback: no reconciliation.
        await using var app = await TestApp.StartAsync(db, TestApp.NoReconcile);
        var a = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        var b = await Kit.SubmitForHookAsync(app, ApiframeProvider.Name);
        var kie = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        var body = Fixture.Load("apiframe/finished-no-status.json", a.ProviderTaskId!);
        Assert.NotEqual(a.Secret, b.Secret);

        var refusals = new (string Case, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("wrong secret", () => Kit.PostApiframeAsync(app, a, body, secret: a.Secret + "x")),
            ("another job's secret", () => Kit.PostApiframeAsync(app, a, body, secret: b.Secret)),
            ("missing secret", () => app.Driver.PostCallbackAsync(a.CallbackUrl, body)),
            ("empty secret", () => app.Driver.PostCallbackAsync(a.CallbackUrl, body, new Dictionary<string, string> { ["x-webhook-secret"] = "" })),
            ("another job's token", () => Kit.PostApiframeAsync(app, a, body, url: a.UrlWith(token: b.Token))),
            ("another job's token and secret", () => Kit.PostApiframeAsync(app, a, body, secret: b.Secret, url: a.UrlWith(token: b.Token))),
            ("another job's task id in the body", () => Kit.PostApiframeAsync(app, a, Fixture.Load("apiframe/finished-no-status.json", b.ProviderTaskId!))),
            ("the right job on another provider's path", () => Kit.PostApiframeAsync(app, a, body, url: a.UrlWith(provider: KieProvider.Name))),
        };
        foreach (var (name, send) in refusals) await AssertBare401Async(await send(), name);

        // A Kie job's URL used for an Apiframe document: the job is not an Apiframe job.
        await AssertBare401Async(await Kit.PostApiframeAsync(app, a, body, url: kie.UrlWith(provider: ApiframeProvider.Name)), "kie job on the apiframe path");
        await AssertBare401Async(await Kit.PostApiframeAsync(app, a, body, url: a.UrlWith(jobId: "job_0000000000000000000000000000beef")), "unknown job id");

        foreach (var job in new[] { a, b, kie }) Assert.Equal([$"{job.JobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(job.JobId)));
        var rejected = await Kit.CallbacksAsync(app, CallbackOutcomes.Rejected);
        Assert.Equal(refusals.Length + 1, rejected.Count);
        Assert.Equal(refusals.Length, rejected.Count(r => r.JobId == a.JobId));
        Assert.Single(rejected, r => r.JobId == kie.JobId);
        // Refused secrets are not stored either.
        Assert.All(rejected, r => Assert.DoesNotContain(a.Secret!, r.HeadersJson, StringComparison.Ordinal));
        Assert.Single(await Kit.CallbacksAsync(app, CallbackOutcomes.Unmatched));

        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(await Kit.PostApiframeAsync(app, a, body))));
        Assert.Equal([$"{a.JobId}:submitted", $"{a.JobId}:completed"], Kit.Ids(await app.Driver.FeedAsync(a.JobId)));
    }

    [Theory]
    [BothDatabases(KieProvider.Name, "~wrongsecret")]
    [BothDatabases(KieProvider.Name, "~stale")]
    [BothDatabases(ApiframeProvider.Name, "~wrongsecret")]
    public async Task Simulated_provider_with_bad_credentials_is_refused(Db db, string provider, string directive)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s["Providers:Kie:WebhookHmacKey"] = Kit.KieHmacKey;
            // Keep reconciliation out of the way: only the callbacks are under test.
            TestApp.NoReconcile(s);
        });
        var job = await Kit.SubmitAsync(app, provider, directive);
        var jobId = job.GetProperty("jobId").GetString()!;
        var taskId = job.GetProperty("providerTaskId").GetString()!;

        // Apiframe sends two progress updates and the final document; Kie sends its final callback and retries it 3 times.
        var refused = await Wait.UntilAsync(
            () => Task.FromResult(app.Get<SimulatorState>().Callbacks.Where(c => c.TaskId == taskId).ToList()),
            c => c.Count >= (provider == KieProvider.Name ? 4 : 3), "the simulator's callbacks");

        Assert.All(refused, c => Assert.Equal(401, c.StatusCode));
        Assert.Equal([$"{jobId}:submitted"], Kit.Ids(await app.Driver.FeedAsync(jobId)));
        Assert.True((await Kit.CallbacksAsync(app, CallbackOutcomes.Rejected)).Count(r => r.JobId == jobId) >= refused.Count);
    }

    private static async Task AssertBare401Async(HttpResponseMessage response, string name)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: expected 401, got {(int)response.StatusCode} {text}");
        // No detail: a forger learns nothing about which check failed.
        foreach (var word in Telltales) Assert.DoesNotContain(word, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"detail\"", text, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("WWW-Authenticate") && response.Headers.WwwAuthenticate.ToString().Contains("error", StringComparison.OrdinalIgnoreCase));
    }
}
