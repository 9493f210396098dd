using Microsoft.Extensions.Hosting;

namespace VideoCallbacks.Tests.Operators;

/// <summary>Retention prunes what is done with and keeps what still needs an operator; purge is the explicit way out.</summary>
public sealed class OperatorRetentionTests
{
    [Theory, BothDatabases]
    public async Task Pruning_removes_old_published_events_and_callbacks_but_leaves_failed_ones_until_purged(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db, settings =>
        {
            // The shortest age the service accepts (Retention:MaxAge is validated to be at least a second).
            settings["Retention:MaxAge"] = "00:00:01";
            // Long enough that only this test decides when a pass runs (the worker's first pass, at start, finds nothing).
            settings["Retention:Interval"] = "1.00:00:00";
        });
        var retention = h.App.Services.GetServices<IHostedService>().OfType<RetentionWorker>().Single();

        // Failed: a Kie job's two events and an Apiframe job's submission, plus a verified callback nobody could read.
        h.Broker.FailUntilCleared(BrokerFault.InternalError);
        var failedJob = await h.SubmitKieAsync("src-failed");
        var unreadJob = await h.SubmitApiframeAsync("p~nocallback");
        var task = await h.PostUnreadableCallbackAsync(unreadJob);
        await h.WaitUntilSettledAsync(failedJob);
        var failed = await Wait.UntilAsync(() => h.Api.AdminEventsAsync("status=failed"), list => list.Count == 3, "three failed events");
        var unreadCallback = Assert.Single(await h.Api.AdminCallbacksAsync("outcome=failed"));

        // Published: a second Kie job once the broker is back. Also a rejected callback (wrong secret).
        h.Broker.ClearFaults();
        var publishedJob = await h.SubmitKieAsync("src-published");
        var published = await h.WaitUntilSettledAsync(publishedJob);
        Assert.All(published, e => Assert.Equal("published", e.Status));
        using (var response = await h.Api.PostApiframeCallbackAsync(task.CallbackUrl!, OperatorHarness.UnreadableCallback(task), "wrong-secret"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var callbacks = await Wait.UntilAsync(() => h.Api.AdminCallbacksAsync(), list => list.Any(c => c.Outcome == "rejected"), "the rejected callback to be recorded");
        Assert.Equal(["accepted", "accepted", "failed", "rejected"], callbacks.Select(c => c.Outcome).Order(StringComparer.Ordinal));

        // Prune until everything prunable is older than MaxAge and gone. The failed rows are older still.
        await Wait.UntilAsync(async () =>
            {
                await retention.PruneOnceAsync(CancellationToken.None);
                return (Events: await h.Api.AdminEventsAsync("status=published"), Callbacks: await h.Api.AdminCallbacksAsync());
            },
            left => left.Events.Count == 0 && left.Callbacks.All(c => c.Outcome == "failed"), "published events and verified callbacks to be pruned");

        Assert.Equal(failed, await h.Api.AdminEventsAsync());
        Assert.Equal([unreadCallback], await h.Api.AdminCallbacksAsync());
        // The jobs themselves are not retention's business: their state stays readable.
        Assert.Equal("completed", (await h.Api.JobAsync(publishedJob)).GetProperty("status").GetString());

        // Purge: a dry run first, which changes nothing and is not audited.
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/purge", new { dryRun = true }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(0, body.GetProperty("purged").GetInt32());
            Assert.Equal(3, body.GetProperty("matched").GetInt32());
            Assert.True(body.GetProperty("dryRun").GetBoolean());
        }
        Assert.Equal(failed, await h.Api.AdminEventsAsync());
        Assert.Empty(await h.Api.AuditAsync());

        // Only failed events can be purged.
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/purge", new { status = "published" }))
        {
            await OperatorHarness.AssertValidationProblemAsync(response, "status");
        }

        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/purge", new { provider = "kie" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(2, body.GetProperty("purged").GetInt32());
            Assert.Equal(2, body.GetProperty("matched").GetInt32());
            Assert.False(body.GetProperty("dryRun").GetBoolean());
        }
        Assert.Equal([$"{unreadJob}:submitted"], (await h.Api.AdminEventsAsync()).Select(e => e.EventId));
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/purge", new { status = "failed" }))
        {
            Assert.Equal(1, (await response.JsonAsync()).GetProperty("purged").GetInt32());
        }
        Assert.Empty(await h.Api.AdminEventsAsync());
        using (var response = await h.Admin.PostJsonAsync("/v1/admin/events/purge", new { }))
        {
            Assert.Equal(0, (await response.JsonAsync()).GetProperty("purged").GetInt32());
        }

        var audit = await h.Api.AuditAsync();
        Assert.Equal(["events.purge", "events.purge", "events.purge"], audit.Select(a => a.Action));
        Assert.Equal([2, 1, 0], audit.Select(a => a.Count));
        Assert.All(audit, a => Assert.Equal(OperatorHarness.AdminKeyId, a.AdminKeyId));

        // The unread callback is still there for an operator to reprocess, after yet another pass.
        await retention.PruneOnceAsync(CancellationToken.None);
        Assert.Equal([unreadCallback], await h.Api.AdminCallbacksAsync());
        Assert.DoesNotContain(h.Broker.Messages, m => m.MessageId!.StartsWith(failedJob, StringComparison.Ordinal));
    }
}
