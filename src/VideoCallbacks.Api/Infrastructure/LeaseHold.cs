namespace VideoCallbacks.Api.Infrastructure;

/// <summary>The lease was lost (expired and maybe taken over, or the store could not renew it): the work was stopped.</summary>
public sealed class LeaseLostException(string message) : Exception(message);

/// <summary>
/// The one way durable work holds its claim (the outbox relay's publishes, the archive stage's downloads): the work
/// runs while the lease is renewed every third of its length, so a short lease survives slow work but a crashed
/// instance's claims free up within one lease. If a renewal fails (store unreachable, or the lease already expired
/// and may be someone else's) the work is cancelled: never two workers for one claim.
/// </summary>
public static class LeaseHold
{
    /// <param name="renew">Renews the claim; returns null while it is held, else why it is not.</param>
    /// <exception cref="LeaseLostException">The lease was lost and the work cancelled.</exception>
    public static async Task RunAsync(Func<CancellationToken, Task> work, Func<CancellationToken, Task<string?>> renew, TimeSpan lease,
        TimeProvider time, CancellationToken stoppingToken)
    {
        using var working = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var renewing = new CancellationTokenSource();
        var renewal = RenewWhileWorkingAsync(renew, lease, time, working, renewing.Token);
        try
        {
            await work(working.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            await renewing.CancelAsync();
            if (await renewal is { } reason) throw new LeaseLostException(reason);
            throw;
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
        }
    }

    private static async Task<string?> RenewWhileWorkingAsync(Func<CancellationToken, Task<string?>> renew, TimeSpan lease, TimeProvider time,
        CancellationTokenSource working, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(lease / 3, time, done);
                string? problem;
                try
                {
                    problem = await renew(done);
                }
                catch (Exception e) when (!done.IsCancellationRequested)
                {
                    problem = $"the lease could not be renewed ({e.GetType().Name}: {e.Message})";
                }
                if (problem is not null)
                {
                    await working.CancelAsync();
                    return problem;
                }
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
            return null;
        }
    }
}
