namespace VideoCallbacks.Tests.Providers;

/// <summary>The provider check schedule: due jobs are leased, rescheduled, and cleared once terminal.</summary>
public abstract class CheckScheduleStoreContract(ITestDatabase engine) : StoreContract(engine)
{
    [Fact]
    public async Task Due_checks_are_leased_and_rescheduled()
    {
        var start = Time.GetUtcNow();
        var due = await CreatePendingAsync();
        await Checks.RescheduleCheckAsync(due.JobId, start - TimeSpan.FromSeconds(1), 0, Ct);
        var later = await CreatePendingAsync();
        await Checks.RescheduleCheckAsync(later.JobId, start + TimeSpan.FromMinutes(10), 0, Ct);
        var never = await CreatePendingAsync();
        await Checks.RescheduleCheckAsync(never.JobId, null, 0, Ct);

        var claimed = await Checks.ClaimDueChecksAsync(start, Lease, 10, Ct);
        Assert.Equal([due.JobId], claimed.Select(j => j.JobId));
        Assert.Empty(await Checks.ClaimDueChecksAsync(start + TimeSpan.FromSeconds(10), Lease, 10, Ct));
        Assert.Equal([due.JobId], (await Checks.ClaimDueChecksAsync(start + Lease + TimeSpan.FromSeconds(1), Lease, 10, Ct)).Select(j => j.JobId));

        await Checks.RescheduleCheckAsync(due.JobId, start + TimeSpan.FromMinutes(5), 3, Ct);

        var rescheduled = await Jobs.GetJobAsync(due.JobId, Ct);
        Assert.Equal(start + TimeSpan.FromMinutes(5), rescheduled!.NextCheckAt);
        Assert.Equal(3, rescheduled.CheckAttempts);
        Assert.Empty(await Checks.ClaimDueChecksAsync(start + TimeSpan.FromMinutes(2), Lease, 10, Ct));
        Assert.Equal([due.JobId], (await Checks.ClaimDueChecksAsync(start + TimeSpan.FromMinutes(6), Lease, 10, Ct)).Select(j => j.JobId));
        // Rescheduling releases the lease: due again straight away once the time comes.
        await Checks.RescheduleCheckAsync(due.JobId, start + TimeSpan.FromMinutes(7), 4, Ct);
        Assert.Equal(new[] { due.JobId, later.JobId }.Order(StringComparer.Ordinal),
            (await Checks.ClaimDueChecksAsync(start + TimeSpan.FromMinutes(11), Lease, 10, Ct)).Select(j => j.JobId).Order(StringComparer.Ordinal));
        var far = await Checks.ClaimDueChecksAsync(start + TimeSpan.FromDays(30), Lease, 10, Ct);
        Assert.DoesNotContain(far, j => j.JobId == never.JobId);
    }

    [Fact]
    public async Task Due_checks_honour_the_limit_in_due_order()
    {
        var start = Time.GetUtcNow();
        var jobs = new List<Job>();
        for (var i = 0; i < 3; i++)
        {
            var job = await CreatePendingAsync();
            await Checks.RescheduleCheckAsync(job.JobId, start - TimeSpan.FromMinutes(3 - i), 0, Ct);
            jobs.Add(job);
        }

        var first = await Checks.ClaimDueChecksAsync(start, Lease, 2, Ct);
        var second = await Checks.ClaimDueChecksAsync(start, Lease, 2, Ct);

        // The most overdue go first; the order inside one claim is not part of the contract.
        Assert.Equal(jobs.Take(2).Select(j => j.JobId).Order(StringComparer.Ordinal), first.Select(j => j.JobId).Order(StringComparer.Ordinal));
        Assert.Equal([jobs[2].JobId], second.Select(j => j.JobId));
    }

    [Fact]
    public async Task Rescheduling_a_terminal_job_clears_its_check()
    {
        var job = await CreateAcceptedAsync();
        await IngestOneAsync(job, StoreData.Completed());

        await Checks.RescheduleCheckAsync(job.JobId, Time.GetUtcNow() - TimeSpan.FromMinutes(1), 1, Ct);

        Assert.Null((await Jobs.GetJobAsync(job.JobId, Ct))!.NextCheckAt);
        Assert.Empty(await Checks.ClaimDueChecksAsync(Time.GetUtcNow() + TimeSpan.FromDays(2), Lease, 10, Ct));
    }
}

public sealed class SqliteCheckScheduleStoreContractTests() : CheckScheduleStoreContract(new SqliteTestDatabase());

public sealed class PostgresCheckScheduleStoreContractTests() : CheckScheduleStoreContract(new PostgresTestDatabase());
