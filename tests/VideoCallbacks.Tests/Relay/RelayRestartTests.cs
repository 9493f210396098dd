namespace VideoCallbacks.Tests.Relay;

/// <summary>The service process dies while publishing; a new one on the same database finishes the job.</summary>
public sealed class RelayRestartTests
{
    [Theory, BothDatabases]
    public async Task Process_killed_mid_send_then_restarted_delivers_everything_with_no_duplicate_on_the_topic(Db db)
    {
        using var database = await SharedDatabase.CreateAsync(db);
        await using var broker = await LocalServiceBus.StartAsync();
        // What the dead instance had claimed becomes claimable again after a 2 s lease.
        var settings = RelayKit.HangingSendSettings(broker, lease: "00:00:02");

        // The broker stores what it is sent but never answers: every send of the first process is in doubt.
        var (first, jobs) = await RelayKit.StartWithHangingSendAsync(database, settings, broker, kie: 4, apiframe: 2);
        await using (first)
        {
            await first.KillAsync();
        }

        var storedByTheDeadProcess = broker.Messages.Count;
        Assert.True(storedByTheDeadProcess > 0);
        // The second process re-sent what the first left in doubt; duplicate detection kept one copy of each.
        var published = await RelayKit.DeliveredByNextInstanceAsync(database, settings, broker, jobs);
        Assert.True(broker.DuplicatesDropped > 0, "the in-doubt sends were sent again");
        Assert.All(published, e => Assert.Null(e.LastError));
    }
}
