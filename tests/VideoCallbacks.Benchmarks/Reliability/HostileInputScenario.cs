using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// Scenario 6 of issue 14: the real service as its own process (Production, sandbox off, real secrets, Redis, providers
/// faked in this process) takes genuine jobs and callbacks, then at least <see cref="ReliabilityOptions.HostileRequests"/>
/// generated hostile requests across every public endpoint. Pass: no 5xx; no event and no job change from an
/// unverified callback (genuine jobs and the feed are snapshotted before and after); peak RSS flat, defined as
/// after &lt; 2x before and &lt; 300 MB; and none of the service's secrets in its logs, its database or Redis.
/// </summary>
public static class HostileInputScenario
{
    public const int Seed = 1406;
    private const int Workers = 8;
    private const long FlatMemoryLimit = 300L * 1024 * 1024;

    public static async Task<ScenarioReport> RunAsync(ReliabilityOptions options, string db)
    {
        var failures = new List<string>();
        await using var fake = await FakeProviders.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        using var database = await SharedDatabase.CreateAsync(db == "postgres" ? Db.Postgres : Db.Sqlite);
        var kieHmacKey = "kie-hmac-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var settings = fake.Settings();
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["Sandbox:Enabled"] = "false",
                     ["Providers:Kie:WebhookHmacKey"] = kieHmacKey,
                     ["Cache:Redis:Configuration"] = redis.Configuration,
                     // Information everywhere, request lines included, so the log scan sees what an operator's logs would hold.
                     ["Logging:LogLevel:Default"] = "Information",
                     ["Logging:LogLevel:Microsoft.AspNetCore"] = "Information",
                     // High enough that hostile requests reach the handlers; 429s are counted separately.
                     ["RateLimits:PerKeyPerSecond"] = "100000",
                     ["RateLimits:PerKeyBurst"] = "100000",
                     ["RateLimits:FailedAuthPerMinute"] = "100000",
                     // Nothing but the traffic below may touch a job: no polls, no reconciliation during the run.
                     ["Providers:NanoGpt:PollInterval"] = "01:00:00",
                     ["Reconcile:After"] = "02:00:00",
                 })
        {
            settings[key] = value;
        }

        var logs = new ConcurrentQueue<string>();
        var service = await ServiceProcess.StartAsync(database.Provider, database.ConnectionString, settings, environment: "Production", echo: logs.Enqueue);
        Traffic traffic;
        long memoryBefore, memoryAfter;
        int committed, published;
        try
        {
            var api = service.Driver;
            var (targets, genuineJobs) = await SetUpGenuineJobsAsync(api, fake, kieHmacKey);
            var jobsBefore = await JobTextsAsync(api, genuineJobs);
            var feedBefore = (await api.FeedAsync()).Select(e => e.GetRawText()).ToList();
            var lastCallbackBefore = (await api.AdminCallbacksAsync()).Select(c => c.Id).DefaultIfEmpty(0).Max();
            memoryBefore = service.PeakMemoryBytes() ?? 0;

            traffic = await SendAsync(service.BaseUrl, new HostileRequests(targets), options.HostileRequests);
            if (service.HasExited) failures.Add($"the service exited ({service.ExitCode}) under hostile input");

            // Admin replays put events back to pending: let the relay settle before counting.
            var events = await api.WaitForAdminEventsAsync(all => all.All(e => e.Status != "pending"), "the relay to settle");
            memoryAfter = service.PeakMemoryBytes() ?? 0;
            var feedAfter = await api.FeedAsync();
            var jobsAfter = await JobTextsAsync(api, genuineJobs);
            foreach (var jobId in genuineJobs.Where(j => jobsBefore[j] != jobsAfter[j]))
            {
                failures.Add($"genuine job {jobId} changed: {Short(jobsBefore[jobId], 300)} -> {Short(jobsAfter[jobId], 300)}");
            }
            for (var i = 0; i < feedBefore.Count; i++)
            {
                if (i >= feedAfter.Count || feedAfter[i].GetRawText() != feedBefore[i]) failures.Add($"feed event #{i} changed or vanished");
            }
            var newEvents = feedAfter.Skip(feedBefore.Count).ToList();
            foreach (var e in newEvents.Where(e => e.GetProperty("type").GetString() != "video.extension.submitted" || genuineJobs.Contains(e.GetProperty("subject").GetString()!)))
            {
                failures.Add($"event {e.GetProperty("id").GetString()} ({e.GetProperty("type").GetString()}) appeared under hostile input");
            }
            var newIds = newEvents.Select(e => e.GetProperty("id").GetString()).ToHashSet();
            committed = newEvents.Count;
            published = events.Count(e => newIds.Contains(e.EventId) && e.Status == "published");
            var applied = (await api.AdminCallbacksAsync()).Where(c => c.Id > lastCallbackBefore && c.Outcome is CallbackOutcomes.Accepted or CallbackOutcomes.Duplicate).ToList();
            foreach (var c in applied.Take(10)) failures.Add($"hostile callback {c.Id} for {c.JobId} was stored as {c.Outcome}");

            await service.TerminateAsync();
            await service.WaitForExitAsync();
        }
        finally
        {
            await service.DisposeAsync();
        }

        if (!traffic.ServerErrors.IsEmpty) failures.Add($"{traffic.ServerErrors.Count} 5xx answers, e.g. {string.Join(" / ", traffic.ServerErrors.Take(5))}");
        if (!traffic.Unexpected.IsEmpty) failures.Add($"{traffic.Unexpected.Count} requests failed in transport outside oversized bodies, e.g. {string.Join(" / ", traffic.Unexpected.Take(5))}");
        if (traffic.Status(429) * 10 > traffic.Sent) failures.Add($"{traffic.Status(429)} of {traffic.Sent} answered 429: rate limits kept the handlers from the input");
        if (fake.WrongKeys > 0) failures.Add($"the fake providers saw {fake.WrongKeys} submissions with a wrong API key");
        if (memoryAfter >= 2 * memoryBefore || memoryAfter >= FlatMemoryLimit)
        {
            failures.Add($"peak RSS not flat: {Mb(memoryBefore)} -> {Mb(memoryAfter)} MB (flat = < 2x and < 300 MB)");
        }

        // The scan: every secret the service holds, in every form, in its logs, its database and Redis.
        var scan = new SecretScan(Secrets(fake, kieHmacKey));
        var logBytes = Encoding.UTF8.GetBytes(string.Join('\n', logs));
        var dbBytes = database.Db == Db.Postgres ? await SecretScan.PgDumpAsync(database.ConnectionString) : SecretScan.SqliteFiles(database.ConnectionString);
        var (redisBytes, redisKeys) = await SecretScan.RedisDumpAsync(redis.Configuration);
        var leaks = scan.Find("logs", logBytes).Concat(scan.Find(db, dbBytes)).Concat(scan.Find("redis", redisBytes)).ToList();
        if (leaks.Count > 0) failures.Add($"{leaks.Count} secrets in clear text: {string.Join(" / ", leaks.Take(5))}");
        if (logs.IsEmpty || redisKeys == 0) failures.Add($"nothing to scan ({logs.Count} log lines, {redisKeys} Redis keys): the scan would prove nothing");

        Console.WriteLine(traffic.Describe());
        // What the service said about its own failures, for whoever has to fix them (already scanned for secrets above).
        foreach (var line in logs.Where(l => l.Contains("\"level\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"level\":\"Critical\"", StringComparison.Ordinal)).Take(5))
        {
            Console.WriteLine("  service error: " + Short(line, 3000));
        }
        var notes = string.Create(CultureInfo.InvariantCulture,
            $"seed {Seed}; answers: {traffic.Summary()}; {traffic.ClientRefused} not sendable (client refused the headers), {traffic.OversizedResets} oversized bodies cut off by Kestrel; " +
            $"peak RSS {Mb(memoryBefore)} -> {Mb(memoryAfter)} MB (flat = < 2x and < 300 MB); scanned {scan.SecretCount} secrets x 5 forms in {logs.Count:N0} log lines ({Mb(logBytes.Length)} MB), " +
            $"{Mb(dbBytes.Length)} MB of {(db == "postgres" ? "pg_dump" : "SQLite files")}, {redisKeys} Redis keys: {leaks.Count} found");
        return new ScenarioReport("hostile input", db, traffic.Sent, traffic.Success, traffic.Sent - traffic.Success, committed, published, 0,
            committed - published, failures, notes, options.Command);
    }

    /// <summary>Genuine jobs on all three providers, some moved on by genuine callbacks, all settled and published.</summary>
    private static async Task<(HostileTargets Targets, HashSet<string> Jobs)> SetUpGenuineJobsAsync(ServiceApi api, FakeProviders fake, string kieHmacKey)
    {
        var kie = new List<HandedOver>();
        var apiframe = new List<HandedOver>();
        var nano = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var k = await api.SubmitAsync(new { provider = "kie", sourceTaskId = $"genuine-kie-{i}", index = i % 4, mode = "manual", prompt = "a genuine prompt" });
            kie.Add(fake.ForJob(k.GetProperty("jobId").GetString()!)!);
            var a = await api.SubmitAsync(new { provider = "apiframe", sourceTaskId = $"genuine-af-{i}", index = i % 4, prompt = "a genuine prompt" });
            apiframe.Add(fake.ForJob(a.GetProperty("jobId").GetString()!)!);
            if (i < 3) nano.Add((await api.SubmitAsync(new { provider = "nanogpt", sourceTaskId = $"genuine-nano-{i}", index = i })).GetProperty("jobId").GetString()!);
        }

        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        async Task Kie(HandedOver job, string body) => Expect200(await api.PostCallbackAsync(new Uri(job.CallbackUrl).AbsolutePath, body, new Dictionary<string, string>
        {
            [KieCallbacks.TimestampHeader] = ts,
            [KieCallbacks.SignatureHeader] = KieCallbacks.Sign(kieHmacKey, job.TaskId, ts),
        }));
        async Task Apiframe(HandedOver job, string body) => Expect200(await api.PostCallbackAsync(new Uri(job.CallbackUrl).AbsolutePath, body,
            new Dictionary<string, string> { [ApiframeCallbacks.SecretHeader] = job.WebhookSecret! }));
        await Kie(kie[0], $$$"""{"code":200,"msg":"success","data":{"taskId":"{{{kie[0].TaskId}}}","resultUrls":["https://cdn.example.com/genuine.mp4"]}}""");
        await Kie(kie[1], $$$"""{"code":500,"msg":"genuine failure","data":{"taskId":"{{{kie[1].TaskId}}}"}}""");
        await Apiframe(apiframe[0], $$"""{"task_id":"{{apiframe[0].TaskId}}","status":"processing","percentage":40}""");
        await Apiframe(apiframe[1], $$"""{"task_id":"{{apiframe[1].TaskId}}","status":"finished","video_urls":["https://cdn.example.com/genuine.mp4"]}""");
        await api.WaitForJobAsync(kie[0].JobId, "completed");
        await api.WaitForJobAsync(kie[1].JobId, "failed");
        await api.WaitForJobAsync(apiframe[0].JobId, "processing");
        await api.WaitForJobAsync(apiframe[1].JobId, "completed");
        var events = await api.WaitForAdminEventsAsync(all => all.Count > 0 && all.All(e => e.Status == "published"), "the genuine events to be published");
        var callbacks = (await api.AdminCallbacksAsync()).Select(c => c.Id).ToList();
        var targets = new HostileTargets(kie, apiframe, nano, events.Select(e => e.EventId).ToList(), callbacks, kieHmacKey);
        return (targets, [.. kie.Select(h => h.JobId), .. apiframe.Select(h => h.JobId), .. nano]);
    }

    private static void Expect200(HttpResponseMessage response)
    {
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"a genuine callback answered {(int)response.StatusCode}");
        }
    }

    private static async Task<Dictionary<string, string>> JobTextsAsync(ServiceApi api, IEnumerable<string> jobIds)
    {
        var texts = new Dictionary<string, string>();
        foreach (var id in jobIds) texts[id] = (await api.JobAsync(id)).GetRawText();
        return texts;
    }

    private static IEnumerable<(string, string)> Secrets(FakeProviders fake, string kieHmacKey)
    {
        yield return ("client API key", TestKeys.Client);
        yield return ("second client API key", TestKeys.OtherClient);
        yield return ("admin API key", TestKeys.Admin);
        yield return ("Kie HMAC key", kieHmacKey);
        yield return ("Kie API key", FakeProviders.KieApiKey);
        yield return ("Apiframe API key", FakeProviders.ApiframeApiKey);
        yield return ("NanoGPT API key", FakeProviders.NanoGptApiKey);
        foreach (var h in fake.Handed)
        {
            yield return ($"callback token of {h.JobId}", h.Token);
            if (h.WebhookSecret is not null) yield return ($"webhook secret of {h.JobId}", h.WebhookSecret);
        }
    }

    // ------------------------------------------------------------------ sending

    private static async Task<Traffic> SendAsync(Uri baseUrl, HostileRequests generator, int count)
    {
        var traffic = new Traffic();
        var master = new Random(Seed);
        // Seeds for twice the count: requests the client itself refuses to send do not count, and are replaced.
        var seeds = Enumerable.Range(0, count * 2).Select(_ => master.Next()).ToArray();
        var next = -1;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            // Raw UTF-8 in header values, as a hostile client may send.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = Workers,
        }) { Timeout = Wait.Default };
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(async _ =>
        {
            while (traffic.Sent < count && Interlocked.Increment(ref next) is var i && i < seeds.Length)
            {
                await SendOneAsync(http, baseUrl, generator.Generate(seeds[i]), traffic);
            }
        }));
        return traffic;
    }

    private static async Task SendOneAsync(HttpClient http, Uri baseUrl, HostileRequest request, Traffic traffic)
    {
        using var message = new HttpRequestMessage(request.Method, new Uri(baseUrl, request.Path));
        // A connection of its own: Kestrel closes one after a malformed request or an unread oversized body, and a
        // pooled reuse racing that close would be the client's failure, not the service's answer.
        message.Headers.ConnectionClose = true;
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        foreach (var (name, value) in request.Headers) message.Headers.TryAddWithoutValidation(name, value);
        using var timeout = new CancellationTokenSource(request.Stream ? TimeSpan.FromSeconds(5) : Wait.Default);
        try
        {
            using var response = await http.SendAsync(message, request.Stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, timeout.Token);
            var body = (int)response.StatusCode >= 500 ? await response.Content.ReadAsStringAsync(CancellationToken.None) : null;
            traffic.Record(request, (int)response.StatusCode, body);
        }
        catch (OperationCanceledException) when (request.Stream)
        {
            // An open event stream that had nothing to send yet: answered, and held open as it should be.
            traffic.Record(request, Traffic.OpenStream, null);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.Unknown && e.InnerException is null or FormatException or ArgumentException or InvalidOperationException)
        {
            traffic.Refused(request, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            traffic.TransportError(request, e);
        }
    }

    private static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.#", CultureInfo.InvariantCulture);

    private static string Short(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}
