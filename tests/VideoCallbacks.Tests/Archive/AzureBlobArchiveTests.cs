using Azure.Storage.Blobs;
using static VideoCallbacks.Tests.Archive.ArchiveKit;

namespace VideoCallbacks.Tests.Archive;

/// <summary>The AzureBlob store with the official SDK against a real Azurite, never a mock.</summary>
public sealed class AzureBlobArchiveTests
{
    private static string NewContainer() => $"videos-{Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task Videos_stored_in_blob_storage_are_byte_identical_with_content_type_and_sha256_and_served_by_a_read_only_link()
    {
        var azurite = await AzuriteServer.GetAsync();
        var container = NewContainer();
        await using var app = await TestApp.StartAsync(Db.Sqlite, AzureBlob(azurite.ConnectionString, container));

        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "blob-src"))).JobId();
        var data = (await app.CompletedAsync(jobId)).Data();
        Assert.Equal("archived", data.GetProperty("archive").GetProperty("status").GetString());
        var taskId = data.GetProperty("providerTaskId").GetString()!;

        var blobs = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(container);
        foreach (var video in data.GetProperty("videos").EnumerateArray())
        {
            var index = video.GetProperty("index").GetInt32();
            var expected = SimulatorVideo(taskId, index);
            var blob = blobs.GetBlobClient($"{jobId}/{index}.mp4");
            var properties = (await blob.GetPropertiesAsync()).Value;
            Assert.Equal("video/mp4", properties.ContentType);
            Assert.Equal(Sha256(expected), properties.Metadata["sha256"]);
            Assert.Equal(expected, (await blob.DownloadContentAsync()).Value.Content.ToArray());
            Assert.Equal(Sha256(expected), video.GetProperty("sha256").GetString());

            // The durable URL answers 302 to a short-lived read-only SAS; following it gives the same bytes.
            using var noFollow = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            noFollow.DefaultRequestHeaders.Add("X-Api-Key", TestApp.ClientKey);
            using var redirect = await noFollow.GetAsync(new Uri(video.GetProperty("url").GetString()!));
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            var sas = redirect.Headers.Location!;
            Assert.StartsWith(azurite.BlobEndpoint, sas.ToString());
            Assert.Contains("sp=r", sas.Query);
            using var plain = new HttpClient();
            Assert.Equal(expected, await plain.GetByteArrayAsync(sas));
            using var put = new HttpRequestMessage(HttpMethod.Put, sas) { Content = new ByteArrayContent([1, 2, 3]) };
            put.Headers.Add("x-ms-blob-type", "BlockBlob");
            using var write = await plain.SendAsync(put);
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        }
        var ready = await app.Driver.ReadyAsync();
        Assert.Equal("AzureBlob", ready.Body.GetProperty("archive").GetProperty("store").GetString());
        Assert.True(ready.Body.GetProperty("archive").GetProperty("writable").GetBoolean());
    }

    [Fact]
    public async Task With_redirects_off_the_service_streams_the_blob_with_ranges()
    {
        var azurite = await AzuriteServer.GetAsync();
        await using var app = await TestApp.StartAsync(Db.Sqlite, AzureBlob(azurite.ConnectionString, NewContainer(), redirect: false));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "blob-stream"))).JobId();
        var data = (await app.CompletedAsync(jobId)).Data();
        var expected = SimulatorVideo(data.GetProperty("providerTaskId").GetString()!, 0);

        using var whole = await app.Driver.GetAsync($"/v1/extensions/{jobId}/videos/0");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(expected, await whole.Content.ReadAsByteArrayAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/extensions/{jobId}/videos/0");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
        using var part = await app.Driver.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(expected[10..20], await part.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task When_blob_storage_is_down_the_archive_waits_and_resumes_when_it_is_back_and_nothing_is_lost()
    {
        await using var azurite = await AzuriteServer.StartDedicatedAsync();
        var container = NewContainer();
        await using var app = await TestApp.StartAsync(Db.Sqlite, AzureBlob(azurite.ConnectionString, container, giveUpAfter: "00:10:00"));
        await azurite.StopAsync();

        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "blob-outage"))).JobId();
        var pending = await Wait.UntilAsync(() => app.Driver.AllPagesAsync<AdminArchive>("/v1/admin/archives", "status=pending", 10),
            p => p.Any(a => a.JobId == jobId && a.Attempts >= 2), "failed attempts while storage is down");
        Assert.Contains("unavailable", pending.Single(a => a.JobId == jobId).Error!.Message, StringComparison.OrdinalIgnoreCase);
        var job = await app.Driver.JobAsync(jobId);
        Assert.Equal(("processing", 100, "pending"), (job.GetProperty("status").GetString(), job.GetProperty("progress").GetInt32(),
            job.GetProperty("archive").GetProperty("status").GetString()));
        Assert.DoesNotContain(await app.Driver.FeedAsync(jobId), ServiceApi.IsTerminal);
        var ready = await app.Driver.ReadyAsync();
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.False(ready.Body.GetProperty("archive").GetProperty("writable").GetBoolean());

        await azurite.StartAgainAsync();
        var data = (await app.CompletedAsync(jobId)).Data();
        Assert.Equal("archived", data.GetProperty("archive").GetProperty("status").GetString());
        var taskId = data.GetProperty("providerTaskId").GetString()!;
        var blobs = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(container);
        var names = new List<string>();
        await foreach (var item in blobs.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = jobId + "/" })) names.Add(item.Name);
        Assert.Equal(data.GetProperty("videos").GetArrayLength(), names.Count);
        Assert.Equal(SimulatorVideo(taskId, 0), (await blobs.GetBlobClient($"{jobId}/0.mp4").DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Readiness_reports_blob_storage_that_goes_away_after_it_was_in_use()
    {
        await using var azurite = await AzuriteServer.StartDedicatedAsync();
        await using var app = await TestApp.StartAsync(Db.Sqlite, AzureBlob(azurite.ConnectionString, NewContainer()));
        var jobId = (await app.Driver.SubmitAsync(Kie(sourceTaskId: "blob-ready"))).JobId();
        await app.CompletedAsync(jobId);
        Assert.True((await app.Driver.ReadyAsync()).Body.GetProperty("archive").GetProperty("writable").GetBoolean());

        await azurite.StopAsync();
        var ready = await app.Driver.ReadyAsync();
        // Degraded, not unready: callbacks are still taken; archives wait for the store.
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.False(ready.Body.GetProperty("archive").GetProperty("writable").GetBoolean());
        Assert.Contains("unavailable", ready.Body.GetProperty("archive").GetProperty("problem").GetString(), StringComparison.Ordinal);
    }
}
