using System.Globalization;
using System.Net;
using VideoCallbacks.Tests.Infrastructure;
using VideoCallbacks.Tests.ServiceBus;
using Xunit.Abstractions;

namespace VideoCallbacks.Tests.Relay;

/// <summary>Several instances behind a load balancer share one PostgreSQL database and one topic.</summary>
public sealed class RelayScaleOutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_instances_on_one_postgres_database_deliver_every_event_and_none_twice()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Postgres);
        await using var broker = await FakeServiceBusServer.StartAsync();
        // One proxy per instance: the SAS token's resource (which names the proxy) tells whose request the broker saw.
        await using var proxyA = TcpProxy.Start(broker.BaseAddress.Port);
        await using var proxyB = TcpProxy.Start(broker.BaseAddress.Port);
        await using var a = await TestApp.StartAsync(Db.Postgres, s => Configure(s, broker, proxyA), connectionString: database.ConnectionString);
        await using var b = await TestApp.StartAsync(Db.Postgres, s => Configure(s, broker, proxyB), connectionString: database.ConnectionString);
        using var clientA = a.Client();
        using var clientB = b.Client();

        // Clients spread over both instances; each instance's sandbox calls back to that instance.
        var submitted = await Task.WhenAll(
            RelayKit.SubmitJobsAsync(clientA, kie: 6, apiframe: 3),
            RelayKit.SubmitJobsAsync(clientB, kie: 6, apiframe: 3));
        await Task.WhenAll(
            RelayKit.WaitForJobsToFinishAsync(clientA, submitted[0]),
            RelayKit.WaitForJobsToFinishAsync(clientB, submitted[1]));
        var committed = await RelayKit.FeedAsync(clientA);
        Assert.Equal(
            committed.Select(e => e.GetProperty("id").GetString()),
            (await RelayKit.FeedAsync(clientB)).Select(e => e.GetProperty("id").GetString()));
        Assert.All(submitted.SelectMany(jobs => jobs), job => Assert.Contains(committed, e => e.GetProperty("subject").GetString() == job));

        using var admin = b.Admin();
        var published = await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);

        // Every event once on the topic; a second send of a MessageId would only be the broker dropping a re-send.
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        Assert.All(published, e => Assert.Null(e.LastError));

        var accepted = broker.Requests.Where(r => r.StatusCode == 201).ToList();
        var viaA = accepted.Count(r => Via(r, proxyA));
        var viaB = accepted.Count(r => Via(r, proxyB));
        Assert.Equal(accepted.Count, viaA + viaB);
        // Each instance's commits wake its own relay at once, so both take a share of the work.
        Assert.True(viaA > 0 && viaB > 0, $"instance A sent {viaA} and instance B {viaB} of {accepted.Count} messages");
        output.WriteLine($"{committed.Count} events; instance A sent {viaA}, instance B sent {viaB}; duplicates dropped by the broker: {broker.DuplicatesDropped}");
    }

    private static void Configure(Dictionary<string, string?> settings, FakeServiceBusServer broker, TcpProxy proxy)
    {
        settings.UseServiceBus(string.Create(CultureInfo.InvariantCulture,
            $"Endpoint=http://127.0.0.1:{proxy.Port}/;SharedAccessKeyName={broker.KeyName};SharedAccessKey={broker.Key}"));
        // Small claims, so both relays keep finding work.
        settings["Relay:BatchSize"] = "3";
    }

    private static bool Via(FakeServiceBusRequest request, TcpProxy proxy) =>
        WebUtility.UrlDecode(request.Authorization ?? "").Contains(
            string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{proxy.Port}/"), StringComparison.Ordinal);
}
