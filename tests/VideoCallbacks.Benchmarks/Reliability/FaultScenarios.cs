using VideoCallbacks.TestBroker;
using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// Scenarios 1-5 of issue 14: each runs the service as real processes under genuine load, injects its fault, then
/// settles the accounting (<see cref="ScenarioRun.SettleAsync"/>). Durations scale with <c>--seconds</c>.
/// </summary>
public static class FaultScenarios
{
    /// <summary>1. SIGKILL at random moments under load, the service restarted on the same database each time.</summary>
    public static async Task<ScenarioReport> KillAsync(ReliabilityOptions o, string db, string command)
    {
        await using var run = await ScenarioRun.CreateAsync(db, instances: 1);
        await run.Cluster.StartAllAsync();
        run.StartLoad();
        var random = new Random();
        // Each kill lands under load: after the (re)started service has acknowledged a few callbacks, at a random
        // moment within the next ~2 s, spread over the run's duration where start-ups leave room.
        var meanGap = Math.Max(1000, (int)(o.Duration.TotalMilliseconds / Math.Max(1, o.Kills)) - 1500);
        for (var kill = 0; kill < o.Kills; kill++)
        {
            await run.WaitForAcknowledgementsAsync(run.Load.AcknowledgedCallbacks, more: 3);
            await Task.Delay(random.Next(0, 2 * meanGap));
            await run.Cluster.KillAsync(0);
            await run.Cluster.StartAsync(0);
        }
        await run.WaitForAcknowledgementsAsync(run.Load.AcknowledgedCallbacks);
        await run.StopLoadAsync(TimeSpan.FromSeconds(60));
        return await run.SettleAsync("1. kill -9 under load", $"{o.Kills} SIGKILLs at random moments, restarted on the same database", command);
    }

    /// <summary>2. PostgreSQL stopped (immediate) and started again mid-load; the service is never restarted.</summary>
    public static async Task<ScenarioReport> PostgresRestartAsync(ReliabilityOptions o, string command)
    {
        // Durable (fsync and synchronous commit on, as in production): with synchronous_commit=off, as the tests run
        // PostgreSQL, an immediate stop loses commits the server already confirmed, which no service could survive.
        var server = await PostgresServer.StartDedicatedAsync(durable: true);
        try
        {
            await using var run = await ScenarioRun.CreateAsync("postgres", instances: 1, await server.NewDatabaseAsync());
            await run.Cluster.StartAllAsync();
            var pid = run.Cluster.Instance(0)!.Pid;
            run.StartLoad();
            await Task.Delay(o.Duration / 4);
            await run.WaitForAcknowledgementsAsync(0);

            await server.StopAsync();
            var downFrom = DateTime.UtcNow;
            await Task.Delay(o.Ci ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(20));
            var downUntil = DateTime.UtcNow;
            await server.StartAgainAsync();
            var acknowledgedBeforeRecovery = run.Load.AcknowledgedCallbacks;
            await run.WaitForAcknowledgementsAsync(acknowledgedBeforeRecovery, more: 20);
            await Task.Delay(o.Duration / 4);
            await run.StopLoadAsync(TimeSpan.FromSeconds(60));

            // While the database was down (requests sent and answered inside the window): no 2xx, and callbacks answered 503.
            var during = run.Load.Attempts.Where(a => a.StartedAt >= downFrom && a.EndedAt <= downUntil).ToList();
            var callbacksDuring = during.Where(a => a.IsCallback).ToList();
            if (during.Any(a => a.Acknowledged)) run.Failures.Add($"{during.Count(a => a.Acknowledged)} requests answered 2xx while PostgreSQL was down");
            if (!callbacksDuring.Any(a => a.Status == 503)) run.Failures.Add("no callback was answered 503 while PostgreSQL was down");
            var otherAnswers = during.Where(a => a.Status is not (503 or 0) && !a.Acknowledged).ToList();
            if (otherAnswers.Count > 0)
            {
                run.Failures.Add($"requests answered {string.Join(", ", otherAnswers.Select(a => a.Status).Distinct())} (not 503) while PostgreSQL was down " +
                    $"({otherAnswers.Count(a => a.IsCallback)} callbacks, {otherAnswers.Count(a => !a.IsCallback)} submissions)");
            }
            if (run.Cluster.Starts != 1 || run.Cluster.Instance(0)!.HasExited || run.Cluster.Instance(0)!.Pid != pid)
            {
                run.Failures.Add("the service did not survive the outage in the same process");
            }
            var statuses = string.Join(" ", during.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"));
            return await run.SettleAsync("2. PostgreSQL stopped and restarted", $"down {(downUntil - downFrom).TotalSeconds:0} s: answers while down {statuses}; " +
                $"recovered in the same process (pid {pid}), {run.Load.AcknowledgedCallbacks - acknowledgedBeforeRecovery} callbacks acknowledged after", command);
        }
        finally
        {
            server.Destroy();
        }
    }

    /// <summary>3. Broker faults under load: busy, timeouts, drops after storing, unsettled sends, stopped, and a wrong key for a while.</summary>
    public static async Task<ScenarioReport> BrokerAsync(ReliabilityOptions o, string db, string command)
    {
        await using var run = await ScenarioRun.CreateAsync(db, instances: 1);
        await run.Cluster.StartAllAsync();
        run.StartLoad();
        var step = o.Duration / 8;
        var broker = run.Broker;
        await run.WaitForAcknowledgementsAsync(0);

        // Each fault is armed, then awaited until the relay's sends have met it (the SDK holds every send for 10 s after a
        // ServerBusy, so faults armed at fixed times would only queue up behind it).
        var busy = o.Ci ? 1 : 3;
        var (timeouts, drops, unanswered) = o.Ci ? (3, 3, 1) : (10, 10, 3);
        await MeetAsync(run, BrokerFault.ServerBusy, busy);
        await MeetAsync(run, BrokerFault.Timeout, timeouts);
        await Task.Delay(step);
        await MeetAsync(run, BrokerFault.DropAfterStore, drops);
        await Task.Delay(step);
        // Sends the broker stores but never answers, or never settles: in doubt until the 5 s try timeout, then sent again.
        await MeetAsync(run, BrokerFault.StoreWithoutAnswer, unanswered);
        await MeetAsync(run, BrokerFault.NeverSettle, unanswered);
        await Task.Delay(step);

        var stopped = o.Ci ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(60);
        await broker.StopAsync();
        await Task.Delay(stopped);
        await broker.RestartAsync();
        await Task.Delay(step);

        // A wrong key (say, a rotated secret) until an operator fixes the configuration and restarts the service.
        var right = run.Cluster.Settings["Bus:ServiceBus:ConnectionString"];
        var refusedBefore = broker.RefusedTokens;
        var transfersBefore = broker.Transfers.Count;
        run.Cluster.Settings["Bus:ServiceBus:ConnectionString"] = broker.ConnectionStringWithKey(Convert.ToBase64String(new byte[32]));
        await RestartGracefullyAsync(run, 0);
        await Task.Delay(2 * step);
        await Wait.UntilAsync(() => Task.FromResult(broker.RefusedTokens), n => n > refusedBefore, "the broker to refuse the wrong key");
        run.Cluster.Settings["Bus:ServiceBus:ConnectionString"] = right;
        await RestartGracefullyAsync(run, 0);
        var refusedSends = broker.Transfers.Skip(transfersBefore).Count(t => t.Outcome.Contains("unauthorized", StringComparison.Ordinal));
        if (broker.RefusedTokens == refusedBefore && refusedSends == 0) run.Failures.Add("the broker never refused the key");
        await Task.Delay(step);

        await run.StopLoadAsync(TimeSpan.FromSeconds(60));
        return await run.SettleAsync("3. broker faults under load",
            $"busy x{busy}, timeout x{timeouts}, drop-after-store x{drops}, stored-unanswered x{unanswered}, never-settled x{unanswered}, broker stopped {stopped.TotalSeconds:0} s, " +
            $"wrong key for {(2 * step).TotalSeconds:0} s, then fixed by a restart" +
            $" ({broker.RefusedTokens - refusedBefore} tokens and {refusedSends} sends refused)", command);
    }

    /// <summary>4. Redis killed and started again (empty) under load, two instances on PostgreSQL sharing it.</summary>
    public static async Task<ScenarioReport> RedisAsync(ReliabilityOptions o, string command)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var run = await ScenarioRun.CreateAsync("postgres", instances: 2, configure: s =>
        {
            s["Cache:Redis:Configuration"] = redis.Configuration;
            s["Cache:Redis:Prefix"] = $"vc-rel-{Guid.NewGuid():N}:";
        });
        await run.Cluster.StartAllAsync();
        run.StartLoad();
        await run.WaitForAcknowledgementsAsync(0);
        var cycles = o.Ci ? 1 : 3;
        var down = o.Ci ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(10);
        for (var i = 0; i < cycles; i++)
        {
            await Task.Delay(o.Duration / (2 * cycles));
            redis.Kill();
            await Task.Delay(down);
            await redis.StartAgainAsync();
        }
        await Task.Delay(o.Duration / (2 * cycles));
        await run.StopLoadAsync(TimeSpan.FromSeconds(60));
        for (var slot = 0; slot < run.Cluster.Count; slot++)
        {
            if (run.Cluster.Instance(slot)!.HasExited) run.Failures.Add($"instance {slot} died while Redis was away");
        }
        return await run.SettleAsync("4. Redis killed and restarted", $"2 instances (PostgreSQL, one Redis); Redis killed {cycles}x for {down.TotalSeconds:0} s and restarted empty", command);
    }

    /// <summary>
    /// 5. SIGTERM under load: on SQLite one instance stopped and started again; on PostgreSQL a rolling restart of two
    /// instances (each stopped gracefully and started again while the other takes the load).
    /// </summary>
    public static async Task<ScenarioReport> SigtermAsync(ReliabilityOptions o, string db, string command)
    {
        var instances = db == "postgres" ? 2 : 1;
        await using var run = await ScenarioRun.CreateAsync(db, instances);
        await run.Cluster.StartAllAsync();
        run.StartLoad();
        await run.WaitForAcknowledgementsAsync(0);
        var rounds = o.Ci ? 1 : 3;
        var stops = 0;
        for (var round = 0; round < rounds; round++)
        {
            for (var slot = 0; slot < instances; slot++)
            {
                await Task.Delay(o.Duration / (rounds * instances * 2));
                await RestartGracefullyAsync(run, slot);
                stops++;
            }
        }
        await Task.Delay(o.Duration / (rounds * instances * 2));
        await run.StopLoadAsync(TimeSpan.FromSeconds(60));
        var what = instances == 2 ? $"rolling restart of 2 instances x{rounds} (SIGTERM, wait for exit, start)" : $"{stops} SIGTERMs, each followed by a start";
        return await run.SettleAsync("5. SIGTERM under load", what + ", every exit code 0", command);
    }

    /// <summary>Arms <paramref name="count"/> transfers to meet <paramref name="fault"/> and waits (bounded) until the relay's sends have met them all.</summary>
    private static async Task MeetAsync(ScenarioRun run, BrokerFault fault, int count)
    {
        var before = run.Broker.Transfers.Count;
        run.Broker.FailNext(fault, count);
        try
        {
            // Generous: after some faults the SDK reconnects, which takes seconds on a loaded machine.
            await Wait.UntilAsync(() => Task.FromResult(run.Broker.Transfers.Count), n => n >= before + count, $"{count} sends to meet {fault}",
                TimeSpan.FromMinutes(3));
        }
        catch (WaitTimeoutException)
        {
            // Not a loss, but the scenario did not do what it says: fail it, and disarm the rest so the run can settle.
            run.Broker.ClearFaults();
            run.Failures.Add($"only {run.Broker.Transfers.Count - before} of {count} sends met {fault} within 3 minutes");
        }
    }

    /// <summary>SIGTERM, expect a clean exit (code 0), start again with the cluster's current settings.</summary>
    private static async Task RestartGracefullyAsync(ScenarioRun run, int slot)
    {
        var code = await run.Cluster.TerminateAsync(slot);
        if (code != 0) run.Failures.Add($"instance {slot} exited with {code} after SIGTERM");
        await run.Cluster.StartAsync(slot);
    }
}
