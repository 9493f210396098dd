using System.Collections.Concurrent;
using Xunit.Abstractions;

namespace VideoCallbacks.Tests.Callbacks;

/// <summary>Issue 13, point 6: SIGTERM while provider callbacks stream in loses no acknowledged callback.</summary>
public sealed class ShutdownUnderLoadTests(ITestOutputHelper output)
{
    private const int Jobs = 60;

    [Fact]
    public async Task Sigterm_while_callbacks_stream_in_keeps_every_acknowledged_callback_and_the_process_exits()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Postgres);
        var settings = new Dictionary<string, string> { ["HostOptions:ShutdownTimeout"] = "00:00:20" };

        var acknowledged = new ConcurrentBag<string>();
        var refused = new ConcurrentBag<string>();
        await using (var api = ServiceProcess.Start(database, settings))
        {
            await api.WaitUntilUpAsync();
            var hooks = await SubmitWithoutCallbacksAsync(api);

            // Four providers' worth of callbacks in parallel, a job each time, until the service stops taking them.
            using var poster = new HttpClient { BaseAddress = api.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
            var next = -1;
            async Task StreamAsync()
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < hooks.Count)
                {
                    var (jobId, url, secret, taskId) = hooks[i];
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, url)
                        {
                            Content = new StringContent(Fixture.Load("apiframe/finished-with-status.json", taskId), Encoding.UTF8, "application/json"),
                        };
                        request.Headers.Add("x-webhook-secret", secret);
                        using var response = await poster.SendAsync(request);
                        (response.IsSuccessStatusCode ? acknowledged : refused).Add(jobId);
                    }
                    catch (HttpRequestException)
                    {
                        refused.Add(jobId);
                    }
                }
            }

            var streams = Enumerable.Range(0, 4).Select(_ => Task.Run(StreamAsync)).ToList();
            await Wait.UntilAsync(() => Task.FromResult(acknowledged.Count), n => n >= 5, "the first callbacks acknowledged");
            await api.TerminateAsync();
            await Task.WhenAll(streams);

            // Bounded wait (Wait.Default), not a timing assertion: it stops on its own, cleanly.
            Assert.Equal(0, await api.WaitForExitAsync());
            output.WriteLine($"{acknowledged.Count} acknowledged, {refused.Count} refused or unanswered");
        }

        Assert.NotEmpty(acknowledged);
        Assert.Equal(Jobs, acknowledged.Count + refused.Count);

        // Restarted on the same database: every acknowledged callback's completion is there.
        await using var again = ServiceProcess.Start(database, settings);
        await again.WaitUntilUpAsync();
        var client = again.Driver;
        var completed = (await client.FeedAsync())
            .Where(e => e.GetProperty("type").GetString() == "video.extension.completed")
            .Select(e => e.GetProperty("subject").GetString())
            .ToHashSet(StringComparer.Ordinal);
        Assert.All(acknowledged, job => Assert.Contains(job, completed));
    }

    /// <summary>Apiframe jobs whose sandbox never calls back; the test is the provider, with each job's URL and secret.</summary>
    private static async Task<List<(string JobId, string Url, string Secret, string TaskId)>> SubmitWithoutCallbacksAsync(ServiceProcess api)
    {
        var client = api.Driver;
        var jobs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < Jobs; i++)
        {
            using var response = await client.PostSubmitAsync(new { provider = "apiframe", sourceTaskId = $"src-{i}~nocallback", index = 1, prompt = "a slow pan over the sea", correlationId = $"order-{i}" });
            var body = await response.JsonAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"submit answered {(int)response.StatusCode}: {body}");
            jobs[body.GetProperty("jobId").GetString()!] = body.GetProperty("providerTaskId").GetString()!;
        }

        using var recorded = await client.Admin.GetAsync(new Uri("/sandbox/_sim/requests?provider=apiframe", UriKind.Relative));
        recorded.EnsureSuccessStatusCode();
        var hooks = new List<(string, string, string, string)>();
        foreach (var request in (await recorded.JsonAsync()).EnumerateArray())
        {
            using var doc = JsonDocument.Parse(request.GetProperty("body").GetString()!);
            if (!doc.RootElement.TryGetProperty("webhook_url", out var url)) continue;
            var jobId = url.GetString()!.Split('/')[^2];
            if (jobs.TryGetValue(jobId, out var taskId))
            {
                hooks.Add((jobId, url.GetString()!, doc.RootElement.GetProperty("webhook_secret").GetString()!, taskId));
            }
        }

        Assert.Equal(Jobs, hooks.Count);
        return hooks;
    }
}
