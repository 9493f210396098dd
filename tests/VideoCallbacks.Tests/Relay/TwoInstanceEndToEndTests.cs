using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace VideoCallbacks.Tests.Relay;

/// <summary>
/// Issue 13, point 7: two service processes behind an imaginary load balancer, on one PostgreSQL database,
/// one Redis and one Service Bus topic, with one set of (simulated) providers that both of them call.
/// </summary>
public sealed class TwoInstanceEndToEndTests(ITestOutputHelper output)
{
    private const string Polled = "for the status of its task";

    [Fact]
    public async Task Two_instances_complete_every_job_once_share_the_polling_and_relaying_and_losing_one_loses_nothing()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Postgres);
        await using var redis = await RedisServer.StartAsync();
        await using var broker = await LocalServiceBus.StartAsync();
        // One provider simulator for both instances (each instance's own sandbox would know only its own tasks).
        await using var providers = await StartProvidersAsync();
        // The relay tests' Service Bus settings; a short lease so a killed instance's claims free up soon.
        var settings = RelayKit.ServiceBusSettings(broker.ConnectionString, lease: "00:00:03");
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["Sandbox:Enabled"] = "false",
                     ["Providers:NanoGpt:PollInterval"] = "00:00:00.200",
                     ["Reconcile:After"] = "00:00:05",
                     ["Cache:Redis:Configuration"] = redis.Configuration,
                     ["Cache:Redis:Prefix"] = $"vc-test-{Guid.NewGuid():N}:",
                     ["Cache:Redis:OperationTimeout"] = "00:00:01",
                     // Small claims so both relays keep finding work.
                     ["Relay:BatchSize"] = "2",
                     ["Logging:LogLevel:VideoCallbacks.Api.Providers.ProviderCheckWorker"] = "Debug",
                 })
        {
            settings[key] = value;
        }
        foreach (var provider in new[] { "kie", "apiframe", "nanogpt" })
        {
            var section = provider switch { "kie" => "Kie", "apiframe" => "Apiframe", _ => "NanoGpt" };
            settings[$"Providers:{section}:BaseUrl"] = $"{providers.Urls.First()}/sandbox/{provider}/";
            settings[$"Providers:{section}:ApiKey"] = $"sim-{provider}-key";
        }

        var a = ServiceProcess.Start(database, settings);
        await using var b = ServiceProcess.Start(database, settings);
        var jobs = new List<string>();
        try
        {
            await Task.WhenAll(a.WaitUntilUpAsync(), b.WaitUntilUpAsync());
            var clientA = a.Driver;
            var clientB = b.Driver;

            // Phase 1: both instances take submissions (and their providers' callbacks) alternately.
            for (var i = 0; i < 18; i++)
            {
                jobs.Add(await SubmitAsync(i % 2 == 0 ? clientA : clientB, (i / 2 % 3) switch { 0 => "kie", 1 => "apiframe", _ => "nanogpt" }, i));
            }

            // Neither idles: both pollers asked the providers, both relays sent to the topic.
            await Wait.UntilAsync(() => Task.FromResult((a.Output.Contains(Polled, StringComparison.Ordinal), b.Output.Contains(Polled, StringComparison.Ordinal))),
                both => both is (true, true), "both instances to poll a provider");
            await Wait.UntilAsync(() => Task.FromResult(SendingConnections(broker)), n => n >= 2, "both instances to publish");
            await clientB.WaitForJobsAsync(jobs);

            // Phase 2: more submissions to both, then instance A dies at once (callbacks to it, claims and sends in flight).
            for (var i = 18; i < 30; i++)
            {
                jobs.Add(await SubmitAsync(i % 2 == 0 ? clientA : clientB, i % 2 == 0 ? "kie" : "apiframe", i));
            }

            await a.KillAsync();
            output.WriteLine("killed instance A");

            // B finishes A's jobs too (A's providers cannot call it back; B's reconciliation asks them) and relays everything.
            await clientB.WaitForJobsAsync(jobs);
            var committed = await clientB.FeedAsync();
            var admin = b.Driver;
            await admin.WaitUntilPublishedAsync(committed.Count);

            foreach (var job in jobs)
            {
                var terminal = committed.Count(e => e.GetProperty("subject").GetString() == job
                    && e.GetProperty("type").GetString() is "video.extension.completed" or "video.extension.failed");
                Assert.True(terminal == 1, $"job {job} has {terminal} terminal events");
            }

            RelayKit.AssertEachDeliveredOnce(broker, committed);
            RelayKit.AssertPerJobOrder(broker.Messages);
            output.WriteLine($"{jobs.Count} jobs, {committed.Count} events, sent over {SendingConnections(broker)} connections, {broker.DuplicatesDropped} duplicates dropped");
        }
        finally
        {
            await a.DisposeAsync();
        }
    }

    private static int SendingConnections(LocalServiceBus broker) =>
        broker.Transfers.Where(t => t.Accepted).Select(t => t.ConnectionNumber).Distinct().Count();

    private static async Task<string> SubmitAsync(ServiceApi api, string provider, int i)
    {
        object body = provider switch
        {
            "kie" => new { provider, sourceTaskId = $"src-{i}", index = i % 4, mode = "auto", correlationId = $"order-{i}" },
            "apiframe" => new { provider, sourceTaskId = $"src-{i}", index = i % 4, prompt = "the camera pulls back", correlationId = $"order-{i}" },
            _ => new { provider, sourceTaskId = $"src-{i}", index = i % 4, correlationId = $"order-{i}" },
        };
        return (await api.SubmitAsync(body)).GetProperty("jobId").GetString()!;
    }

    /// <summary>The provider simulator on a real port, calling back whichever instance a job came from.</summary>
    private static async Task<WebApplication> StartProvidersAsync()
    {
        var builder = WebApplication.CreateBuilder();
        // Its refused callbacks to the killed instance are expected; they would only flood the test output.
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Ports.Free()}");
        builder.Services.AddProviderSimulator(o =>
        {
            o.CallbackDelay = TimeSpan.FromMilliseconds(200);
            o.ProgressInterval = TimeSpan.FromMilliseconds(100);
        });
        var app = builder.Build();
        app.MapProviderSimulator();
        await app.StartAsync();
        return app;
    }
}
