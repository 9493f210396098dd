using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using static VideoCallbacks.Tests.Security.MisbehavingProvider;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 1: a provider that answers two submissions with one task id.</summary>
public sealed class TaskIdConflictTests
{
    private const string SubmitPath = "/api/v1/mj/generateVideoExtend";

    [Theory, BothDatabases]
    public async Task A_task_id_already_bound_to_another_job_fails_the_new_job_with_provider_conflict_and_keeps_callbacks_with_the_owner(Db db)
    {
        using var provider = WireMockServer.Start();
        provider.Given(Request.Create().WithPath(SubmitPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBodyAsJson(new { code = 200, msg = "success", data = new { taskId = "same-task" } }));
        await using var app = await StartServiceAsync(db, provider);
        var client = app.Driver.Http;

        using var first = await client.PostJsonAsync("/v1/extensions", KieBody("src-a"));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var owner = (await first.JsonAsync()).GetProperty("jobId").GetString()!;

        using var second = await client.PostJsonAsync("/v1/extensions", KieBody("src-b"), idempotencyKey: "conflict-try-1");
        Assert.Equal(HttpStatusCode.BadGateway, second.StatusCode);
        var problem = await second.JsonAsync();
        Assert.Equal("provider_conflict", problem.GetProperty("code").GetString());
        Assert.Contains(owner, problem.GetProperty("detail").GetString());
        var loser = problem.GetProperty("jobId").GetString()!;

        var job = await app.Driver.JobAsync(loser);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal("provider_conflict", job.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(owner, job.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, job.GetProperty("providerTaskId").ValueKind);

        // The idempotent retry gets the same answer and is not sent to the provider again.
        using var retry = await client.PostJsonAsync("/v1/extensions", KieBody("src-b"), idempotencyKey: "conflict-try-1");
        Assert.Equal(HttpStatusCode.BadGateway, retry.StatusCode);
        Assert.Equal(loser, (await retry.JsonAsync()).GetProperty("jobId").GetString());
        Assert.Equal(2, Received(provider, SubmitPath).Count);

        // Callbacks for the task reach the job that owns it; the loser's URL takes none.
        var hooks = Received(provider, SubmitPath).Select(b => HookFrom(b, "kie", "same-task")).ToList();
        var ownerHook = hooks.Single(h => h.JobId == owner);
        var loserHook = hooks.Single(h => h.JobId == loser);
        var body = Fixture.Load("kie/callback-success.json", "same-task");
        using (var refused = await Kit.PostKieAsync(app, loserHook, body))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        Assert.Equal("accepted", Kit.Outcome(await Kit.AckAsync(await Kit.PostKieAsync(app, ownerHook, body))));
        Assert.Equal("completed", (await app.Driver.JobAsync(owner)).GetProperty("status").GetString());
        var loserAfter = await app.Driver.JobAsync(loser);
        Assert.Equal("failed", loserAfter.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, loserAfter.GetProperty("providerTaskId").ValueKind);
        Assert.Empty(await app.Driver.FeedAsync(loser));
    }

    [Theory, BothDatabases]
    public async Task A_callback_that_binds_a_task_id_owned_by_another_job_is_refused_without_failing_its_batch(Db db)
    {
        // The provider times out on the second submission, so that job waits for a late callback to bind it. The timeout
        // leaves the owner's quick submission room on a loaded machine; the slow one answers well past it.
        using var provider = WireMockServer.Start();
        provider.Given(Request.Create().WithPath(SubmitPath).UsingPost().WithBody(b => b is not null && b.Contains("src-slow", StringComparison.Ordinal)))
            .RespondWith(Response.Create().WithDelay(TimeSpan.FromSeconds(10)).WithBodyAsJson(new { code = 200, data = new { taskId = "late" } }));
        provider.Given(Request.Create().WithPath(SubmitPath).UsingPost().WithBody(b => b is not null && b.Contains("src-owner", StringComparison.Ordinal)))
            .RespondWith(Response.Create().WithBodyAsJson(new { code = 200, msg = "success", data = new { taskId = "owned-task" } }));
        await using var app = await StartServiceAsync(db, provider, s => s["Providers:Kie:Timeout"] = "00:00:05");
        var client = app.Driver.Http;

        using var ownerResponse = await client.PostJsonAsync("/v1/extensions", KieBody("src-owner"));
        Assert.Equal(HttpStatusCode.Accepted, ownerResponse.StatusCode);
        var owner = (await ownerResponse.JsonAsync()).GetProperty("jobId").GetString()!;
        using var slow = await client.PostJsonAsync("/v1/extensions", KieBody("src-slow"));
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        var unknown = (await slow.JsonAsync()).GetProperty("jobId").GetString()!;

        // WireMock logs the slow request once it has answered it.
        var received = await Wait.UntilAsync(() => Task.FromResult(Received(provider, SubmitPath)), r => r.Count == 2, "both submissions in the provider's log");
        var unknownHook = received.Select(b => HookFrom(b, "kie", "owned-task")).Single(h => h.JobId == unknown);
        using var stolen = await Kit.PostKieAsync(app, unknownHook, Fixture.Load("kie/callback-success.json", "owned-task"));

        Assert.Equal(HttpStatusCode.Unauthorized, stolen.StatusCode);
        Assert.Equal("submitted", (await app.Driver.JobAsync(owner)).GetProperty("status").GetString());
        var refused = Assert.Single(await Kit.CallbacksAsync(app, "rejected"));
        Assert.Contains(owner, refused.Reason);
    }

    private static object KieBody(string source) => new { provider = "kie", sourceTaskId = source, index = 0, mode = "auto" };
}
