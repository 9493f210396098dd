using System.Net;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Archive;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace VideoCallbacks.Tests.Archive;

/// <summary>
/// What a download may reach, against real sockets: the address actually connected to is checked (on every redirect
/// hop), so nothing private is reached, and a refused hop receives no request at all.
/// </summary>
public sealed class VideoDownloaderTests : IDisposable
{
    private readonly WireMockServer _cdn = WireMockServer.Start();
    private readonly WireMockServer _inside = WireMockServer.Start();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _cdn.Stop();
        _inside.Stop();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_loopback_url_is_refused_before_any_request_reaches_it()
    {
        _inside.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithHeader("Content-Type", "video/mp4").WithBody([1, 2, 3]));
        var downloader = Downloader(VideoDownloader.CreateHandler(allowPrivateAddresses: false));

        var e = await Assert.ThrowsAsync<ArchiveFailedException>(() => ArchiveAsync(downloader, $"{_inside.Url}/v.mp4"));
        Assert.Equal(ArchiveErrors.RefusedAddress, e.Failure.Code);
        Assert.True(e.Failure.Permanent);
        Assert.Contains("loopback", e.Failure.Message);
        Assert.Empty(_inside.LogEntries);
    }

    [Fact]
    public async Task A_redirect_to_a_refused_address_is_not_followed_and_that_address_receives_nothing()
    {
        _cdn.Given(Request.Create().WithPath("/v.mp4")).RespondWith(Response.Create().WithStatusCode(302).WithHeader("Location", $"{_inside.Url}/metadata"));
        _inside.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithHeader("Content-Type", "video/mp4").WithBody([1, 2, 3]));
        // Both listen on loopback: this test's rule stands in for "the CDN is public, the other is inside".
        var insidePort = new Uri(_inside.Url!).Port;
        var downloader = Downloader(VideoDownloader.CreateHandler(ep => ep.Port == insidePort ? "inside" : null));

        var e = await Assert.ThrowsAsync<ArchiveFailedException>(() => ArchiveAsync(downloader, $"{_cdn.Url}/v.mp4"));
        Assert.Equal(ArchiveErrors.RefusedAddress, e.Failure.Code);
        Assert.Single(_cdn.LogEntries);
        Assert.Empty(_inside.LogEntries);
        Assert.False(Directory.Exists(Path.Combine(_root, "job_1")) && Directory.EnumerateFiles(Path.Combine(_root, "job_1")).Any());
    }

    [Fact]
    public async Task Redirects_are_followed_up_to_three_hops_and_the_bytes_are_stored_with_their_hash()
    {
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        for (var hop = 0; hop < 3; hop++)
        {
            _cdn.Given(Request.Create().WithPath($"/hop{hop}")).RespondWith(Response.Create().WithStatusCode(307).WithHeader("Location", $"/hop{hop + 1}"));
        }
        _cdn.Given(Request.Create().WithPath("/hop3")).RespondWith(Response.Create().WithHeader("Content-Type", "application/octet-stream").WithBody(bytes));
        var downloader = Downloader(VideoDownloader.CreateHandler(allowPrivateAddresses: true));

        var video = await ArchiveAsync(downloader, $"{_cdn.Url}/hop0");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), video.Sha256);
        Assert.Equal(bytes.Length, video.Bytes);
        Assert.Equal("video/mp4", video.ContentType);
        Assert.Equal($"{_cdn.Url}/hop0", video.ProviderUrl);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_root, "job_1", "0.mp4")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "job_1"), "*.partial"));

        _cdn.Given(Request.Create().WithPath("/loop")).RespondWith(Response.Create().WithStatusCode(302).WithHeader("Location", "/loop"));
        var loop = await Assert.ThrowsAsync<ArchiveFailedException>(() => ArchiveAsync(downloader, $"{_cdn.Url}/loop"));
        Assert.Contains("more than 3 redirects", loop.Failure.Message);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://cdn.example/v.mp4")]
    [InlineData("not a url")]
    public async Task Only_http_and_https_are_downloaded(string url)
    {
        var e = await Assert.ThrowsAsync<ArchiveFailedException>(() => ArchiveAsync(Downloader(VideoDownloader.CreateHandler(true)), url));
        Assert.Equal(ArchiveErrors.RefusedAddress, e.Failure.Code);
    }

    [Fact]
    public async Task A_cdn_5xx_is_transient_and_a_404_is_permanent()
    {
        _cdn.Given(Request.Create().WithPath("/busy")).RespondWith(Response.Create().WithStatusCode(503));
        _cdn.Given(Request.Create().WithPath("/gone")).RespondWith(Response.Create().WithStatusCode(404));
        var downloader = Downloader(VideoDownloader.CreateHandler(true));
        Assert.False((await Assert.ThrowsAsync<ArchiveFailedException>(() => ArchiveAsync(downloader, $"{_cdn.Url}/busy"))).Failure.Permanent);
        var gone = await Assert.ThrowsAsync<ArchiveFailedException>(() => ArchiveAsync(downloader, $"{_cdn.Url}/gone"));
        Assert.Equal((ArchiveErrors.NotFound, true), (gone.Failure.Code, gone.Failure.Permanent));
    }

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.20.0.1", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "link-local (cloud metadata lives here)")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("100.64.0.1", "shared (carrier-grade NAT)")]
    [InlineData("::1", "loopback")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fd00::1", "unique-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("::", "unspecified")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local (cloud metadata lives here)")]
    [InlineData("8.8.8.8", null)]
    [InlineData("2606:4700::1111", null)]
    [InlineData("172.32.0.1", null)]
    public void Addresses_are_judged_by_their_range(string address, string? refusal) =>
        Assert.Equal(refusal, AddressGuard.Refusal(IPAddress.Parse(address)));

    private Task<VideoCallbacks.Contracts.JobVideo> ArchiveAsync(VideoDownloader downloader, string url) =>
        downloader.ArchiveAsync("job_1", 0, url, new FileSystemVideoStore(_root), (job, i) => $"https://videos.example/{job}/{i}", CancellationToken.None);

    private static VideoDownloader Downloader(SocketsHttpHandler handler)
    {
        var options = Options.Create(new ArchiveOptions { MaxBytes = 10_000_000 });
        return new(new OneClient(new HttpClient(handler)), options, new ArchiveBandwidth(options));
    }

    private sealed class OneClient(HttpClient client) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => client;
    }
}
