namespace VideoCallbacks.Tests.Operators;

/// <summary>
/// Reprocessing stored callbacks: a verified callback today's normalizer cannot read is kept (outcome failed);
/// after the normalizer learns to read it, reprocessing completes the job, once.
/// </summary>
public sealed class OperatorReprocessTests
{
    [Theory, BothDatabases]
    public async Task Reprocessing_a_callback_after_a_normalizer_fix_completes_the_job_with_exactly_one_event(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db);
        // ~nocallback: the simulator stays quiet, so the only callbacks are the ones this test posts.
        var viaHttp = await SubmitWithUnreadableCallbackAsync(h, "p-http~nocallback");
        var viaCli = await SubmitWithUnreadableCallbackAsync(h, "p-cli~nocallback");

        foreach (var job in new[] { viaHttp, viaCli })
        {
            Assert.Equal("submitted", (await h.Api.JobAsync(job.JobId)).GetProperty("status").GetString());
            Assert.DoesNotContain(await h.Api.AdminEventsAsync(), e => e.JobId == job.JobId && e.Type == "video.extension.completed");
        }

        // The fix: a normalizer that reads this finished document finds the result URLs in it. Stand in for that
        // change by giving the stored raw body the documented finished shape a fixed normalizer would see.
        foreach (var job in new[] { viaHttp, viaCli })
        {
            var body = JsonSerializer.Serialize(new
            {
                task_id = job.TaskId,
                task_type = "imagine-video-extend",
                status = "finished",
                video_urls = job.Urls,
            });
            Assert.Equal(1, await h.ExecuteSqlAsync("UPDATE callbacks SET body = @body WHERE id = @id", ("@body", body), ("@id", job.CallbackId)));
        }

        // Over HTTP.
        using (var response = await h.Admin.PostAsync($"/v1/admin/callbacks/{IdOf(viaHttp)}/reprocess", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await response.JsonAsync();
            Assert.Equal(viaHttp.CallbackId, result.GetProperty("callbackId").GetInt64());
            Assert.Equal("accepted", result.GetProperty("outcome").GetString());
            Assert.Equal($"{viaHttp.JobId}:completed", result.GetProperty("eventId").GetString());
        }
        // From the CLI.
        var cli = await h.CliAsync("callbacks", "reprocess", IdOf(viaCli));
        Assert.True(cli.ExitCode == 0, cli.ToString());
        Assert.Equal($"Reprocessed callback {viaCli.CallbackId}: accepted, event {viaCli.JobId}:completed.", cli.Stdout.Trim());

        foreach (var job in new[] { viaHttp, viaCli })
        {
            var completed = await h.Api.JobAsync(job.JobId);
            Assert.Equal("completed", completed.GetProperty("status").GetString());
            Assert.Equal(job.Urls, completed.GetProperty("videoUrls").EnumerateArray().Select(u => u.GetString()!));
        }

        var shown = await h.CliAsync("jobs", "show", viaCli.JobId);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("completed", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains(viaCli.Urls[0], shown.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{viaCli.JobId}:completed", shown.Stdout, StringComparison.Ordinal);

        // Again, the other way round: nothing new happens, no second event is minted.
        var cliAgain = await h.CliAsync("callbacks", "reprocess", IdOf(viaHttp), "--json");
        Assert.True(cliAgain.ExitCode == 0, cliAgain.ToString());
        using (var again = JsonDocument.Parse(cliAgain.Stdout))
        {
            Assert.Equal("duplicate", again.RootElement.GetProperty("outcome").GetString());
            Assert.Equal(JsonValueKind.Null, again.RootElement.GetProperty("eventId").ValueKind);
        }
        using (var response = await h.Admin.PostAsync($"/v1/admin/callbacks/{IdOf(viaCli)}/reprocess", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await response.JsonAsync();
            Assert.Equal("duplicate", result.GetProperty("outcome").GetString());
            Assert.Equal(JsonValueKind.Null, result.GetProperty("eventId").ValueKind);
        }

        var events = await Wait.UntilAsync(() => h.Api.AdminEventsAsync(), all => all.All(e => e.Status == "published"), "every event to be published");
        foreach (var job in new[] { viaHttp, viaCli })
        {
            var completedEvent = Assert.Single(events, e => e.JobId == job.JobId && e.Type == "video.extension.completed");
            Assert.Equal($"{job.JobId}:completed", completedEvent.EventId);
            Assert.Single(events, e => e.JobId == job.JobId && e.Type == "video.extension.submitted");
            Assert.Equal(2, events.Count(e => e.JobId == job.JobId));
            Assert.Single(h.AcceptedSends(), id => id == completedEvent.EventId);
            // The callback now records what it produced, and keeps it after the duplicate rerun.
            var stored = Assert.Single(await h.Api.AdminCallbacksAsync(), c => c.Id == job.CallbackId);
            Assert.Equal("accepted", stored.Outcome);
            Assert.Equal(completedEvent.EventId, stored.EventId);
        }
        Assert.Equal(0, h.Broker.DuplicatesDropped);
    }

    [Theory, BothDatabases]
    public async Task Reprocessing_a_callback_that_failed_verification_is_refused(Db db)
    {
        await using var h = await OperatorHarness.StartAsync(db);
        var jobId = await h.SubmitApiframeAsync("p~nocallback");
        var task = await h.TaskOfAsync(jobId);
        var forged = JsonSerializer.Serialize(new { task_id = task.TaskId, task_type = "imagine-video-extend", video_urls = ForgedUrls });

        using (var response = await h.Api.PostApiframeCallbackAsync(task.CallbackUrl!, forged, "not-the-secret"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var rejected = await Wait.UntilAsync(() => h.Api.AdminCallbacksAsync("outcome=rejected"), list => list.Count == 1, "the rejected callback to be recorded");
        var callbackId = Assert.Single(rejected).Id;
        Assert.Equal(jobId, rejected[0].JobId);

        using (var response = await h.Admin.PostAsync($"/v1/admin/callbacks/{callbackId}/reprocess", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.JsonAsync();
            Assert.Contains("rejected", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        var cli = await h.CliAsync("callbacks", "reprocess", callbackId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, cli.ExitCode);
        Assert.StartsWith("error: 409", Assert.Single(cli.ErrLines), StringComparison.Ordinal);

        // A callback for no job at all is refused the same way.
        var unmatchedUrl = task.CallbackUrl!.Replace(jobId, "job_00000000000000000000000000000000", StringComparison.Ordinal);
        using (var response = await h.Api.PostApiframeCallbackAsync(unmatchedUrl, forged, task.WebhookSecret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var unmatched = await Wait.UntilAsync(() => h.Api.AdminCallbacksAsync("outcome=unmatched"), list => list.Count == 1, "the unmatched callback to be recorded");
        using (var response = await h.Admin.PostAsync($"/v1/admin/callbacks/{unmatched[0].Id}/reprocess", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        }
        using (var response = await h.Admin.PostAsync("/v1/admin/callbacks/987654321/reprocess", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        // Nothing moved: the job is untouched, no event beyond the submission, the forged URLs nowhere.
        var job = await h.Api.JobAsync(jobId);
        Assert.Equal("submitted", job.GetProperty("status").GetString());
        Assert.Equal(0, job.GetProperty("videoUrls").GetArrayLength());
        Assert.Equal(["video.extension.submitted"], (await h.Api.AdminEventsAsync()).Select(e => e.Type));
    }

    private static readonly string[] ForgedUrls = ["https://evil.invalid/1.mp4"];

    internal sealed record UnreadJob(string JobId, string TaskId, long CallbackId, string[] Urls);

    private static string IdOf(UnreadJob j) => j.CallbackId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Submits an Apiframe job and posts it a genuine callback (right URL, right secret) that today's normalizer does not
    /// understand: "finished" without video_urls. It is stored with outcome failed and answered 2xx.
    /// </summary>
    private static async Task<UnreadJob> SubmitWithUnreadableCallbackAsync(OperatorHarness h, string sourceTaskId)
    {
        var jobId = await h.SubmitApiframeAsync(sourceTaskId);
        var task = await h.PostUnreadableCallbackAsync(jobId);
        var stored = Assert.Single(await h.Api.AdminCallbacksAsync("outcome=failed"), c => c.JobId == jobId);
        Assert.Equal("apiframe", stored.Provider);
        Assert.Null(stored.EventId);
        Assert.Contains("video_urls", stored.Reason, StringComparison.Ordinal);
        string[] urls = [.. Enumerable.Range(1, 4).Select(n => $"https://cdn.simulator.invalid/{task.TaskId}/{n}.mp4")];
        return new UnreadJob(jobId, task.TaskId, stored.Id, urls);
    }
}
