using static VideoCallbacks.Tests.Archive.ArchiveKit;

namespace VideoCallbacks.Tests.Archive;

/// <summary>Archives across instances, over slow CDNs and through retention.</summary>
public sealed class ArchiveLifecycleTests
{
    [Fact]
    public async Task Two_instances_on_one_PostgreSQL_download_each_video_once_between_them()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        var settings = FileSystem(more: s =>
        {
            s["Archive:Concurrency"] = "1";
            // No lease lapses here: a renewal late on a loaded machine would let the other instance download again.
            s["Archive:Lease"] = "00:00:30";
        });
        await using var a = await TestApp.StartAsync(Db.Postgres, settings, connectionString: database);
        await using var b = await TestApp.StartAsync(Db.Postgres, s =>
        {
            settings(s);
            // One shared volume, as a FileSystem archive on PostgreSQL requires.
            s["Archive:Path"] = Path.GetDirectoryName(a.ArchivePath("x"));
        }, connectionString: database);

        var jobs = new List<string>();
        for (var i = 0; i < 6; i++) jobs.Add((await a.Driver.SubmitAsync(Kie(sourceTaskId: $"two-inst-{i}~cdn-slow=100"))).JobId());
        foreach (var jobId in jobs)
        {
            var data = (await a.CompletedAsync(jobId)).Data();
            Assert.Equal("archived", data.GetProperty("archive").GetProperty("status").GetString());
            var taskId = data.GetProperty("providerTaskId").GetString()!;
            var perUrl = a.CdnRequests(taskId).GroupBy(r => r.Path).ToList();
            Assert.Equal(data.GetProperty("videos").GetArrayLength(), perUrl.Count);
            Assert.All(perUrl, g => Assert.Single(g));
            // Either instance serves what either stored.
            using var viaB = await b.Driver.GetAsync($"/v1/extensions/{jobId}/videos/0");
            Assert.Equal(SimulatorVideo(taskId, 0), await viaB.Content.ReadAsByteArrayAsync());
            Assert.Single(await a.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
        }
    }

    [Fact]
    public async Task A_cdn_slower_than_the_download_timeout_is_retried_then_given_up_and_the_completion_is_still_published()
    {
        // Give-up well after the first 1 s timeout, so even a slow first attempt is retried before it.
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem(giveUpAfter: "00:00:05", more: s => s["Archive:DownloadTimeout"] = "00:00:01"));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-slow~cdn-slow=5000"))).JobId();

        var data = (await app.CompletedAsync(jobId)).Data();
        var error = data.GetProperty("archive").GetProperty("error");
        Assert.Equal("archive_gave_up", error.GetProperty("code").GetString());
        Assert.Contains("Archive:DownloadTimeout", error.GetProperty("message").GetString());
        Assert.True(app.CdnRequests(data.GetProperty("providerTaskId").GetString()!).Count >= 2, "a timeout is retried");
    }

    [Fact]
    public async Task Event_retention_never_deletes_archived_videos()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem(more: s =>
        {
            s["Retention:MaxAge"] = "00:00:01";
            s["Retention:Interval"] = "00:00:00.200";
        }));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-retention"))).JobId();
        var taskId = (await app.CompletedAsync(jobId)).Data().GetProperty("providerTaskId").GetString()!;

        await Wait.UntilAsync(() => app.Driver.FeedAsync(jobId), f => f.Count == 0, "the job's published events pruned");
        using var video = await app.Driver.GetAsync($"/v1/extensions/{jobId}/videos/0");
        Assert.Equal(HttpStatusCode.OK, video.StatusCode);
        Assert.Equal(SimulatorVideo(taskId, 0), await video.Content.ReadAsByteArrayAsync());
        Assert.Equal("archived", (await app.Driver.JobAsync(jobId)).GetProperty("archive").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Archive_retention_deletes_stored_videos_and_the_job_says_expired()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem(more: s => s["Archive:Retention"] = "00:00:02"));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-expire"))).JobId();
        await app.CompletedAsync(jobId);
        Assert.NotEmpty(Directory.GetFiles(app.ArchivePath(jobId)));

        await Wait.UntilAsync(() => app.Driver.JobAsync(jobId), j => j.GetProperty("archive").GetProperty("status").GetString() == "expired", "the archive expired");
        Assert.False(Directory.Exists(app.ArchivePath(jobId)));
        using var video = await app.Driver.GetAsync($"/v1/extensions/{jobId}/videos/0");
        Assert.Equal(HttpStatusCode.NotFound, video.StatusCode);
    }
}
