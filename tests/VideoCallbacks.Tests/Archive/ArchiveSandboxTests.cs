using System.Net.Http.Headers;
using VideoCallbacks.Simulator;
using static VideoCallbacks.Tests.Archive.ArchiveKit;

namespace VideoCallbacks.Tests.Archive;

/// <summary>
/// Keeping the videos, end to end in the sandbox: the simulator's CDN serves real bytes, the service copies them before
/// it publishes the completion, and the durable URLs serve exactly those bytes.
/// </summary>
public sealed class ArchiveSandboxTests
{
    [Theory, BothDatabases]
    public async Task A_completed_event_is_published_after_the_videos_are_stored_and_its_urls_serve_the_exact_bytes(Db db)
    {
        await using var app = await TestApp.StartAsync(db, FileSystem());

        var job = await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-src-1"));
        var jobId = job.JobId();
        var completed = await app.CompletedAsync(jobId);
        var data = completed.Data();
        var taskId = data.GetProperty("providerTaskId").GetString()!;

        Assert.Equal("archived", data.GetProperty("archive").GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, data.GetProperty("archive").GetProperty("error").ValueKind);
        var videos = data.GetProperty("videos").EnumerateArray().ToList();
        Assert.NotEmpty(videos);
        var urls = data.GetProperty("videoUrls").EnumerateArray().Select(u => u.GetString()!).ToList();
        Assert.Equal(videos.Select(v => v.GetProperty("url").GetString()!), urls);
        foreach (var (video, i) in videos.Select((v, i) => (v, i)))
        {
            Assert.Equal(i, video.GetProperty("index").GetInt32());
            Assert.Equal($"{app.BaseUrl.ToString().TrimEnd('/')}/v1/extensions/{jobId}/videos/{i}", video.GetProperty("url").GetString());
            Assert.StartsWith($"{app.BaseUrl.ToString().TrimEnd('/')}/sandbox/cdn/{taskId}/{i}.mp4", video.GetProperty("providerUrl").GetString());
            var expected = SimulatorVideo(taskId, i);
            Assert.Equal(Sha256(expected), video.GetProperty("sha256").GetString());
            Assert.Equal(expected.Length, video.GetProperty("bytes").GetInt64());
            Assert.Equal("video/mp4", video.GetProperty("contentType").GetString());

            using var response = await app.Driver.Http.GetAsync(new Uri(video.GetProperty("url").GetString()!));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("video/mp4", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal($"\"{Sha256(expected)}\"", response.Headers.ETag?.Tag);
            Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(expected, 4, 4));
        }
        // Each video downloaded once.
        Assert.Equal(videos.Count, app.CdnRequests(taskId).Count);

        // The job says the same, and the archive was visible while it ran: processing at 100, then completed.
        var stored = await app.Driver.JobAsync(jobId);
        Assert.Equal("completed", stored.GetProperty("status").GetString());
        Assert.Equal("archived", stored.GetProperty("archive").GetProperty("status").GetString());
        Assert.Equal(urls, stored.GetProperty("videoUrls").EnumerateArray().Select(u => u.GetString()!));
        var feed = await app.Driver.FeedAsync(jobId);
        var types = feed.Select(e => (e.GetProperty("type").GetString(), e.Data().GetProperty("progress").GetInt32())).ToList();
        Assert.Contains(("video.extension.progress", 100), types);
        Assert.Equal(("video.extension.completed", 100), types[^1]);
        var archiving = feed.Single(e => e.GetProperty("type").GetString() == "video.extension.progress" && e.Data().GetProperty("progress").GetInt32() == 100);
        Assert.Equal("pending", archiving.Data().GetProperty("archive").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_stored_video_is_served_with_ranges_an_etag_and_only_with_a_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem());
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-range"))).JobId();
        var data = (await app.CompletedAsync(jobId)).Data();
        var bytes = SimulatorVideo(data.GetProperty("providerTaskId").GetString()!, 0);
        var url = $"/v1/extensions/{jobId}/videos/0";

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(100, 299);
        using var partial = await app.Driver.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal($"bytes 100-299/{bytes.Length}", partial.Content.Headers.ContentRange?.ToString());
        Assert.Equal(bytes[100..300], await partial.Content.ReadAsByteArrayAsync());

        using (var anonymous = await app.Driver.Anonymous.GetAsync(new Uri(url, UriKind.Relative))) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var missing = await app.Driver.GetAsync($"/v1/extensions/{jobId}/videos/9");
        var problem = await ServiceApi.ExpectAsync(missing, HttpStatusCode.NotFound, "a video the job does not have");
        Assert.Contains("no stored video 9", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Duplicate_completion_callbacks_archive_once_and_publish_one_completion()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, FileSystem());
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-dup"))).JobId();
        var data = (await app.CompletedAsync(jobId)).Data();
        var taskId = data.GetProperty("providerTaskId").GetString()!;

        for (var i = 0; i < 3; i++)
        {
            using var resend = await app.Driver.Admin.PostAsync(new Uri($"/sandbox/_sim/callbacks/{taskId}/resend", UriKind.Relative), null);
            Assert.True(resend.IsSuccessStatusCode, $"resend answered {(int)resend.StatusCode}");
        }
        await Wait.UntilAsync(() => app.Driver.AdminCallbacksAsync($"?outcome=duplicate"), c => c.Count(x => x.JobId == jobId) >= 3, "three duplicate callbacks");
        Assert.Single(await app.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
        Assert.Equal(data.GetProperty("videos").GetArrayLength(), app.CdnRequests(taskId).Count);
    }

    [Fact]
    public async Task With_archiving_off_the_completion_carries_the_provider_urls_and_says_off()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "arch-off"))).JobId();
        var data = (await app.CompletedAsync(jobId)).Data();
        Assert.Equal("off", data.GetProperty("archive").GetProperty("status").GetString());
        var video = data.GetProperty("videos")[0];
        Assert.Equal(video.GetProperty("providerUrl").GetString(), video.GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, video.GetProperty("sha256").ValueKind);
        Assert.Empty(app.CdnRequests(data.GetProperty("providerTaskId").GetString()!));
    }
}
