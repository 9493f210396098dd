namespace VideoCallbacks.Tests.Sandbox;

[StartsFirst]
public sealed class SandboxEndToEndTests
{
    [Theory, BothDatabases]
    public async Task Every_provider_and_flow_is_submitted_visible_in_feed_and_stream_and_completes_by_itself(Db db)
    {
        await using var app = await TestApp.StartAsync(db);

        var jobs = new Dictionary<string, string>
        {
            ["kie"] = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "e2e-kie"))).JobId(),
            ["apiframe"] = (await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "e2e-apiframe"))).JobId(),
            ["nanogpt task"] = (await app.Driver.SubmitAsync(NanoGptTask(sourceTaskId: "e2e-nano"))).JobId(),
            ["nanogpt video"] = (await app.Driver.SubmitAsync(NanoGptVideo())).JobId(),
        };
        var ids = jobs.Values.ToList();

        // Submitted: in the feed ...
        var feed = await app.Driver.FeedAsync(limit: 100);
        foreach (var id in ids)
        {
            Assert.Contains(feed, e => e.Subject() == id && e.Type() == "video.extension.submitted");
        }

        // ... and in the stream.
        var streamed = await Sse.ReadAsync(app.Driver,
            got => ids.All(id => got.Any(e => e.Event == "video.extension.submitted" && e.Json().Subject() == id)));
        Assert.All(streamed, e => Assert.Equal(e.Id, e.Json().Sequence().ToString(System.Globalization.CultureInfo.InvariantCulture)));

        // Completed, without any manual step: Kie and Apiframe by callback, NanoGPT by polling.
        var events = await app.Driver.WaitForEventsAsync(ids, "video.extension.completed");
        foreach (var (flow, id) in jobs)
        {
            var completed = Assert.Single(events, e => e.Subject() == id && e.Type() == "video.extension.completed");
            var data = completed.GetProperty("data");
            Assert.Equal("completed", data.GetProperty("status").GetString());
            Assert.Equal(100, data.GetProperty("progress").GetInt32());
            Assert.NotEmpty(data.GetProperty("videoUrls").EnumerateArray());
            var ofJob = events.Where(e => e.Subject() == id).ToList();
            Assert.Equal("video.extension.submitted", ofJob[0].Type());
            Assert.Equal("video.extension.completed", ofJob[^1].Type());

            var job = await (await app.Driver.GetAsync($"/v1/extensions/{id}")).JsonAsync();
            Assert.True(job.GetProperty("status").GetString() == "completed", $"{flow}: {job}");
            Assert.NotEmpty(job.GetProperty("videoUrls").EnumerateArray());
        }

        // The completion also reaches a stream reader.
        var completions = await Sse.ReadAsync(app.Driver,
            got => ids.All(id => got.Any(e => e.Event == "video.extension.completed" && e.Json().Subject() == id)));
        Assert.Equal(ids.Count, completions.Count(e => e.Event == "video.extension.completed"));
    }

    [Fact]
    public async Task Sandbox_providers_fail_a_job_when_the_simulated_provider_fails_it()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);

        var ids = new[]
        {
            (await app.Driver.SubmitAsync(Kie(sourceTaskId: "e2e-fail~fail=out of GPUs"))).JobId(),
            (await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "e2e-fail~fail=out of GPUs"))).JobId(),
            (await app.Driver.SubmitAsync(NanoGptTask(sourceTaskId: "e2e-fail~fail=out of GPUs"))).JobId(),
        };

        var events = await app.Driver.WaitForEventsAsync(ids, "video.extension.failed");
        foreach (var id in ids)
        {
            var failed = Assert.Single(events, e => e.Subject() == id && e.Type() == "video.extension.failed");
            Assert.Contains("out of GPUs", failed.GetProperty("data").GetProperty("error").GetProperty("message").GetString());
            Assert.DoesNotContain(events, e => e.Subject() == id && e.Type() == "video.extension.completed");
        }
    }
}
