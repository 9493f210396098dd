using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Benchmarks;

/// <summary>
/// What archiving big videos costs the rest of the service: ingest under wrk without archiving (the baseline),
/// then the same ingest while <c>--archives</c> completions of <c>--archive-mb</c> files each are downloaded from a
/// local CDN and stored, all in one service process. Reports both p99s, their ratio, and the service's peak RSS.
/// </summary>
public static class ArchiveBenchmarks
{
    public static async Task<BenchmarkResult> ArchiveUnderIngestAsync(BenchmarkOptions o)
    {
        var bytes = o.ArchiveMegabytes * 1024L * 1024L;
        await using var cdn = await Cdn.StartAsync(bytes, o.CdnMegabytesPerSecond);
        var (provider, connectionString, _, seeder) = await CallbackBenchmarks.CreateDatabaseAsync(o.Db);
        // Three disjoint sets, so no phase replays another's (job, percentage) and every callback is new news.
        var warmup = await CallbackBenchmarks.SeedAsync(seeder, o.Jobs);
        var baseline = await CallbackBenchmarks.SeedAsync(seeder, o.Jobs);
        var loaded = await CallbackBenchmarks.SeedAsync(seeder, o.Jobs);
        var alone = await CallbackBenchmarks.SeedAsync(seeder, o.Archives);
        var archives = await CallbackBenchmarks.SeedAsync(seeder, o.Archives);
        var folder = Path.Combine(Path.GetTempPath(), "vc-bench-videos", Guid.NewGuid().ToString("N"));
        await using var service = await CallbackBenchmarks.StartServiceAsync(provider, connectionString, new Dictionary<string, string>
        {
            ["Archive:Store"] = "FileSystem",
            ["Archive:Path"] = folder,
            // The CDN is this process, on loopback.
            ["Archive:AllowPrivateAddresses"] = "true",
            ["Archive:PollInterval"] = "00:00:00.200",
            // The default Archive:Concurrency (4 per instance) unless --set overrides it.
        }.Concat(o.Settings).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value));
        try
        {
            using var http = CallbackBenchmarks.Client(service.BaseUrl, 8);
            // Archiving alone first: the service's peak RSS with nothing else to do is what archiving costs.
            var aloneStarted = Stopwatch.GetTimestamp();
            await CompleteAsync(http, alone, cdn);
            var (aloneArchived, _, aloneDone, _) = await WatchAsync(service, seeder, alone, aloneStarted, CancellationToken.None);
            var peakAlone = service.PeakMemoryBytes();
            // Those files are not read again; dropping them keeps the disk's write-back to the next phase's own.
            foreach (var dir in Directory.EnumerateDirectories(folder)) Directory.Delete(dir, recursive: true);

            await WrkAsync(service.BaseUrl, warmup, o.Concurrency, o.WarmupSeconds);
            var (_, baseErrors, baseLatency) = CallbackBenchmarks.ParseWrk(await WrkAsync(service.BaseUrl, baseline, o.Concurrency, o.Seconds));
            var peakBefore = service.PeakMemoryBytes();

            var started = Stopwatch.GetTimestamp();
            await CompleteAsync(http, archives, cdn);
            using var stop = new CancellationTokenSource();
            var watch = WatchAsync(service, seeder, archives, started, stop.Token);
            var loadedOutput = await WrkAsync(service.BaseUrl, loaded, o.Concurrency, o.Seconds);
            var windowEnd = Stopwatch.GetElapsedTime(started);
            var (requests, errors, latency) = CallbackBenchmarks.ParseWrk(loadedOutput);
            // Let every archive finish (or fail) before the figures are read.
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (!watch.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(200);
            await stop.CancelAsync();
            var (archived, failed, lastDone, maxRss) = await watch;
            var stored = Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.mp4", SearchOption.AllDirectories).Count(f => new FileInfo(f).Length == bytes) : 0;
            var ratio = baseLatency.P99 > 0 ? latency.P99 / baseLatency.P99 : 0;
            return new BenchmarkResult("ingest-while-archiving (wrk)", o, (long)(requests - errors), (long)errors, o.Seconds, latency, service.PeakMemoryBytes(),
                FormattableString.Invariant(
                    $"baseline without archiving p50={baseLatency.P50:F2} ms p99={baseLatency.P99:F2} ms ({baseErrors} errors), p99 ratio {ratio:F2}x; ") +
                FormattableString.Invariant(
                    $"{o.Archives} archives (Archive:Concurrency {(o.Settings.TryGetValue("Archive:Concurrency", out var c) ? c : "4, the default")}) of {o.ArchiveMegabytes} MB (CDN {(o.CdnMegabytesPerSecond > 0 ? o.CdnMegabytesPerSecond + " MB/s per stream" : "unpaced")}): ") +
                FormattableString.Invariant(
                    $"{archived} archived, {failed} failed, {stored} files of full size, last done {lastDone.TotalSeconds:F1} s after the completions (ingest window {windowEnd.TotalSeconds:F1} s); ") +
                FormattableString.Invariant(
                    $"archiving alone: {aloneArchived} archived in {aloneDone.TotalSeconds:F1} s, service peak RSS {Mb(peakAlone)} MB; ") +
                FormattableString.Invariant(
                    $"peak RSS after the baseline ingest {Mb(peakBefore)} MB, max sampled while archiving under ingest {Mb(maxRss)} MB"));
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static string Mb(long? bytes) => bytes is { } b ? (b / 1024.0 / 1024.0).ToString("F0", CultureInfo.InvariantCulture) : "?";

    /// <summary>Samples the service's RSS every 100 ms and the archive jobs' state every 500 ms until all are settled.</summary>
    private static async Task<(int Archived, int Failed, TimeSpan LastDone, long MaxRss)> WatchAsync(
        VideoCallbacks.Testing.ServiceProcess service, VideoCallbacks.Testing.Stores store, IReadOnlyList<CallbackBenchmarks.SeededJob> jobs, long started, CancellationToken ct)
    {
        long maxRss = 0;
        var done = new Dictionary<string, string>();
        var lastDone = TimeSpan.Zero;
        var round = 0;
        while (!ct.IsCancellationRequested && done.Count < jobs.Count)
        {
            maxRss = Math.Max(maxRss, service.ResidentMemoryBytes() ?? 0);
            if (round++ % 5 == 0)
            {
                foreach (var job in jobs.Where(j => !done.ContainsKey(j.JobId)))
                {
                    var state = await store.Jobs.GetJobAsync(job.JobId, CancellationToken.None);
                    if (state?.Archive?.Status is ArchiveStatuses.Archived or ArchiveStatuses.Failed)
                    {
                        done[job.JobId] = state.Archive.Status;
                        lastDone = Stopwatch.GetElapsedTime(started);
                    }
                }
            }
            try { await Task.Delay(100, ct); } catch (OperationCanceledException) { break; }
        }
        return (done.Values.Count(s => s == ArchiveStatuses.Archived), done.Values.Count(s => s == ArchiveStatuses.Failed), lastDone, maxRss);
    }

    private static async Task<string> WrkAsync(Uri baseUrl, IEnumerable<CallbackBenchmarks.SeededJob> jobs, int connections, int seconds)
    {
        var script = Path.Combine(Path.GetTempPath(), $"vc-wrk-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, CallbackBenchmarks.WrkScriptFor(jobs));
        try { return await CallbackBenchmarks.RunWrkAsync(baseUrl, script, connections, seconds); }
        finally { File.Delete(script); }
    }

    private static async Task CompleteAsync(HttpClient http, IEnumerable<CallbackBenchmarks.SeededJob> jobs, Cdn cdn)
    {
        foreach (var job in jobs)
        {
            using var response = await http.SendAsync(Completion(job, new Uri(cdn.BaseUrl, $"/v/{job.JobId}.mp4")));
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"completion callback answered {(int)response.StatusCode}");
        }
    }

    /// <summary>A genuine Apiframe "finished" callback naming one video on the local CDN.</summary>
    private static HttpRequestMessage Completion(CallbackBenchmarks.SeededJob job, Uri video)
    {
        var body = $$"""{"task_id":"{{job.TaskId}}","task_type":"imagine-video-extend","status":"finished","video_urls":["{{video}}"]}""";
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/callbacks/apiframe/{job.JobId}/{job.Token}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-webhook-secret", job.Secret);
        return request;
    }

    /// <summary>
    /// A CDN in this process that streams <c>bytes</c> of MP4-looking data per request from one 1 MiB buffer
    /// (so it costs the benchmark process almost no memory), optionally paced per stream like a real CDN.
    /// </summary>
    private sealed class Cdn : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Cdn(WebApplication app, Uri baseUrl) => (_app, BaseUrl) = (app, baseUrl);

        public Uri BaseUrl { get; }

        public static async Task<Cdn> StartAsync(long bytes, int megabytesPerSecond)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var chunk = new byte[1024 * 1024];
            new Random(42).NextBytes(chunk);
            "\0\0\0\u0018ftypmp42\0\0\0\0mp42isom"u8.CopyTo(chunk);
            app.MapGet("/v/{name}", async (HttpContext context) =>
            {
                context.Response.ContentType = "video/mp4";
                context.Response.ContentLength = bytes;
                var start = Stopwatch.GetTimestamp();
                for (long sent = 0; sent < bytes;)
                {
                    var n = (int)Math.Min(chunk.Length, bytes - sent);
                    await context.Response.Body.WriteAsync(chunk.AsMemory(0, n), context.RequestAborted);
                    sent += n;
                    if (megabytesPerSecond > 0)
                    {
                        var due = TimeSpan.FromSeconds(sent / (megabytesPerSecond * 1024.0 * 1024.0));
                        var wait = due - Stopwatch.GetElapsedTime(start);
                        if (wait > TimeSpan.Zero) await Task.Delay(wait, context.RequestAborted);
                    }
                }
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Cdn(app, new Uri(address));
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
