using System.Globalization;
using VideoCallbacks.Tests.Infrastructure;
using VideoCallbacks.Tests.ServiceBus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>The service process dies while publishing; a new one on the same database finishes the job.</summary>
public sealed class RelayRestartTests
{
    private const int AnsweredBeforeTheHang = 2;

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Process_killed_mid_publish_then_restarted_loses_nothing(Db db)
    {
        using var database = await SharedDatabase.CreateAsync(db);
        await using var broker = await FakeServiceBusServer.StartAsync();
        // The proxy shows when a publish request is on the wire and unanswered.
        await using var proxy = TcpProxy.Start(broker.BaseAddress.Port);
        var settings = new Dictionary<string, string>
        {
            ["Bus:Transport"] = "ServiceBus",
            ["Bus:ServiceBus:ConnectionString"] = string.Create(CultureInfo.InvariantCulture,
                $"Endpoint=http://127.0.0.1:{proxy.Port}/;SharedAccessKeyName={broker.KeyName};SharedAccessKey={broker.Key}"),
            ["Bus:ServiceBus:SendTimeout"] = "00:02:00",
            ["Relay:BaseDelay"] = "00:00:00.050",
            ["Relay:MaxDelay"] = "00:00:00.400",
            ["Relay:PollInterval"] = "00:00:00.050",
            // What the dead instance had claimed becomes claimable again after this.
            ["Relay:Lease"] = "00:00:02",
        };

        // The broker takes the first few messages, then hangs on every request: publishes stay in flight.
        broker.FailNext(new FakeServiceBusFault(), AnsweredBeforeTheHang);
        broker.FailUntilCleared(FakeServiceBusFault.Slow(TimeSpan.FromMinutes(10)));

        List<string> jobs;
        await using (var first = ApiProcess.Start(database, settings))
        {
            await first.WaitUntilUpAsync();
            using var client = first.Client();
            jobs = await RelayKit.SubmitJobsAsync(client, kie: 4, apiframe: 2);
            await RelayKit.WaitForJobsToFinishAsync(client, jobs);
            await HttpExtensions.EventuallyAsync(
                () => Task.FromResult((Accepted: broker.Messages.Count, InFlight: proxy.AwaitingAnswers)),
                s => s.Accepted == AnsweredBeforeTheHang && s.InFlight > 0,
                RelayKit.Patience,
                "some messages accepted and more publishes in flight");

            await first.KillAsync();
        }

        // The hung requests die with their connections; the broker accepted none of them.
        await HttpExtensions.EventuallyAsync(
            () => Task.FromResult(broker.Requests.Count(r => r.StatusCode == 499)),
            n => n > 0,
            RelayKit.Patience,
            "the broker to see the killed process's requests go away");
        Assert.Equal(AnsweredBeforeTheHang, broker.Messages.Count);
        broker.ClearFaults();

        await using var second = ApiProcess.Start(database, settings);
        await second.WaitUntilUpAsync();
        using var secondClient = second.Client();
        using var admin = second.Admin();
        var committed = await RelayKit.FeedAsync(secondClient);
        Assert.All(jobs, job => Assert.Contains(committed, e => e.GetProperty("subject").GetString() == job && e.GetProperty("type").GetString() == "video.extension.completed"));

        var published = await RelayKit.WaitUntilPublishedAsync(admin, committed.Count);
        RelayKit.AssertEachDeliveredOnce(broker, committed);
        RelayKit.AssertPerJobOrder(broker.Messages);
        Assert.All(published, e => Assert.Null(e.LastError));
    }
}
