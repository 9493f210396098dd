using VideoCallbacks.Api.Bus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>
/// Issue 13, points 5 and 6 for the relay: a short claim lease kept alive while a publish is in flight, so a
/// crashed instance's claims free up within one lease; a stopping instance hands its claims back at once.
/// </summary>
public sealed class RelayCrashAndShutdownTests
{
    [Fact]
    public async Task Lease_is_renewed_while_a_publish_hangs_and_a_killed_instances_claims_are_delivered_by_the_next()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Postgres);
        await using var broker = await LocalServiceBus.StartAsync();
        // A 3 s lease, renewed every second; the sends hang far longer than that (TryTimeout 2 min).
        var settings = RelayKit.HangingSendSettings(broker, lease: "00:00:03");

        var sql = database.Open();
        try
        {
            var outbox = new OutboxStore(sql);
            var (first, jobs) = await RelayKit.StartWithHangingSendAsync(database, settings, broker, kie: 4, apiframe: 2);
            await using (first)
            {
                // While the send hangs, the claim's lease_until keeps moving forward: the relay renews it.
                var before = await Wait.UntilAsync(() => outbox.GetClaimsAsync(CancellationToken.None), c => c.Count > 0, "claimed events");
                var watched = before[0];
                var renewed = await Wait.UntilAsync(
                    async () => (await outbox.GetClaimsAsync(CancellationToken.None)).FirstOrDefault(c => c.Sequence == watched.Sequence),
                    c => c is not null && c.LeaseUntil > watched.LeaseUntil,
                    $"the lease on event {watched.Sequence} (until {watched.LeaseUntil:O}) to be renewed");
                Assert.Equal(watched.Owner, renewed!.Owner);

                await first.KillAsync();
            }

            // Bounded by Wait.Default, far beyond the 3 s lease: the dead instance's claims simply expired.
            await RelayKit.DeliveredByNextInstanceAsync(database, settings, broker, jobs);
        }
        finally
        {
            (sql as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task Sigterm_mid_publish_releases_the_claimed_batch_so_the_next_instance_need_not_wait_for_the_lease()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Postgres);
        await using var broker = await LocalServiceBus.StartAsync();
        // A lease far longer than the test's patience: only a release lets the next instance publish in time.
        var settings = RelayKit.HangingSendSettings(broker, lease: "00:10:00");
        settings["HostOptions:ShutdownTimeout"] = "00:00:20";

        var sql = database.Open();
        try
        {
            var outbox = new OutboxStore(sql);
            var (first, jobs) = await RelayKit.StartWithHangingSendAsync(database, settings, broker, kie: 3, apiframe: 1);
            await using (first)
            {
                Assert.NotEmpty(await outbox.GetClaimsAsync(CancellationToken.None));

                await first.TerminateAsync();
                await first.WaitForExitAsync();
            }

            var left = await outbox.GetClaimsAsync(CancellationToken.None);
            Assert.True(left.Count == 0, $"claims left after a graceful stop: {string.Join(", ", left)}");

            await RelayKit.DeliveredByNextInstanceAsync(database, settings, broker, jobs);
        }
        finally
        {
            (sql as IDisposable)?.Dispose();
        }
    }
}
