using static VideoCallbacks.Tests.Archive.ArchiveKit;

namespace VideoCallbacks.Tests.Archive;

/// <summary>
/// When a video cannot be kept, the completion is still published, with the provider's URLs and the reason; operators
/// list failed archives and retry one.
/// </summary>
public sealed class ArchiveFailureTests
{
    [Theory]
    [InlineData("~cdn-missing", "archive_not_found")]
    [InlineData("~cdn-html", "archive_content_type")]
    [InlineData("~cdn-huge=200000", "archive_too_large")]
    [InlineData("~cdn-huge=200000~cdn-chunked", "archive_too_large")]
    public async Task A_video_that_cannot_be_kept_fails_at_once_and_the_completion_carries_the_provider_url_and_the_reason(string directive, string code)
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem(more: s => s["Archive:MaxBytes"] = "100000"));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-fail" + directive))).JobId();

        var data = (await app.CompletedAsync(jobId)).Data();
        var archive = data.GetProperty("archive");
        Assert.Equal("failed", archive.GetProperty("status").GetString());
        Assert.Equal(code, archive.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(archive.GetProperty("error").GetProperty("message").GetString()));
        var video = data.GetProperty("videos")[0];
        var providerUrl = video.GetProperty("providerUrl").GetString()!;
        Assert.Equal(providerUrl, video.GetProperty("url").GetString());
        Assert.Equal(providerUrl, data.GetProperty("videoUrls")[0].GetString());
        // Failed at once: one request for the first video, no retries.
        Assert.Single(app.CdnRequests(data.GetProperty("providerTaskId").GetString()!));
        Assert.Empty(Directory.Exists(app.ArchivePath(jobId)) ? Directory.GetFiles(app.ArchivePath(jobId)) : []);

        var failed = await app.Driver.AllPagesAsync<AdminArchive>("/v1/admin/archives", "status=failed", 10);
        var listed = Assert.Single(failed, a => a.JobId == jobId);
        Assert.Equal(code, listed.Error?.Code);
        using var video0 = await app.Driver.GetAsync($"/v1/extensions/{jobId}/videos/0");
        Assert.Equal(HttpStatusCode.NotFound, video0.StatusCode);
    }

    [Fact]
    public async Task A_cdn_that_keeps_failing_is_retried_until_give_up_then_an_operator_retry_stores_it_and_publishes_archived()
    {
        // The CDN fails the first 20 requests: attempts back off until the give-up; the operator's retry then succeeds.
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem(giveUpAfter: "00:00:01"));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-flaky~cdn-fail=20"))).JobId();

        var data = (await app.CompletedAsync(jobId)).Data();
        var taskId = data.GetProperty("providerTaskId").GetString()!;
        Assert.Equal("failed", data.GetProperty("archive").GetProperty("status").GetString());
        Assert.Equal("archive_gave_up", data.GetProperty("archive").GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("503", data.GetProperty("archive").GetProperty("error").GetProperty("message").GetString());
        Assert.True(app.CdnRequests(taskId).Count >= 2, "retried before giving up");

        // Use up the CDN's remaining failures, so the operator's retry meets a working CDN.
        foreach (var video in data.GetProperty("videos").EnumerateArray())
        {
            var file = $"/{video.GetProperty("index").GetInt32()}.mp4";
            while (app.CdnRequests(taskId).Count(r => r.Path.Contains(file, StringComparison.Ordinal)) < 20)
            {
                using var _ = await app.Driver.Anonymous.GetAsync(new Uri(video.GetProperty("providerUrl").GetString()!));
            }
        }
        using var retry = await app.Driver.Admin.PostAsync(new Uri($"/v1/admin/extensions/{jobId}/archive", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);

        var archived = await Wait.UntilAsync(() => app.Driver.FeedAsync(jobId),
            f => f.Any(e => e.GetProperty("type").GetString() == "video.extension.archived"), "the archived event");
        var late = archived.Single(e => e.GetProperty("type").GetString() == "video.extension.archived").Data();
        Assert.Equal("archived", late.GetProperty("archive").GetProperty("status").GetString());
        var url = late.GetProperty("videoUrls")[0].GetString()!;
        Assert.EndsWith($"/v1/extensions/{jobId}/videos/0", url);
        using var served = await app.Driver.Http.GetAsync(new Uri(url));
        Assert.Equal(SimulatorVideo(taskId, 0), await served.Content.ReadAsByteArrayAsync());
        Assert.Single(archived, ServiceApi.IsTerminal);
        Assert.Contains(await app.Driver.AuditAsync(), a => a.Action == "archives.retry" && a.Target == jobId);
        Assert.Contains(await app.Driver.AdminEventsAsync("type=video.extension.archived"), e => e.JobId == jobId);

        // Nothing left to retry now.
        using var again = await app.Driver.Admin.PostAsync(new Uri($"/v1/admin/extensions/{jobId}/archive", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Archive_retry_and_list_are_for_admins_and_refuse_bad_input()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem());
        using (var client = await app.Driver.PostAsync("/v1/admin/extensions/job_x/archive", null)) Assert.Equal(HttpStatusCode.Forbidden, client.StatusCode);
        using (var none = await app.Driver.Admin.PostAsync(new Uri("/v1/admin/extensions/job_nope/archive", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }
        using var bad = await app.Driver.Admin.GetAsync(new Uri("/v1/admin/archives?status=lost&cursor=zz", UriKind.Relative));
        var problem = await ServiceApi.ExpectAsync(bad, HttpStatusCode.BadRequest, "a bad archive filter");
        Assert.True(problem.GetProperty("errors").TryGetProperty("status", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("cursor", out _));
    }

    [Fact]
    public async Task Operators_list_failed_archives_and_retry_one_with_the_cli()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem());
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-cli~cdn-missing"))).JobId();
        await app.CompletedAsync(jobId);
        string[] Cli(params string[] args) => [.. args, "--url", app.BaseUrl.ToString(), "--admin-key", TestApp.AdminKey];

        var list = await VideoCallbacks.Tests.Cli.CliRun.ExecuteAsync(Cli("archives", "list"), _ => null);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(list.OutLines, l => l.Contains(jobId, StringComparison.Ordinal) && l.Contains("archive_not_found", StringComparison.Ordinal));

        var retry = await VideoCallbacks.Tests.Cli.CliRun.ExecuteAsync(Cli("archives", "retry", jobId), _ => null);
        Assert.Equal(0, retry.ExitCode);
        Assert.Contains($"Archive of {jobId} is pending", retry.Stdout, StringComparison.Ordinal);
        Assert.Contains(await app.Driver.AuditAsync(), a => a.Action == "archives.retry" && a.Target == jobId && a.AdminKeyId != "anonymous");
        // The link is still dead: the retry fails again, and no second completion is published.
        await Wait.UntilAsync(() => app.Driver.JobAsync(jobId), j => j.GetProperty("archive").GetProperty("status").GetString() == "failed", "the retry settled");
        Assert.Single(await app.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
    }
}
