using Microsoft.Extensions.Time.Testing;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Security;

/// <summary>Issue 8, defect 9: what a budget refused is reported when the minute ends, even if nothing more arrives.</summary>
public sealed class MinuteBudgetTests
{
    [Fact]
    public void A_flood_that_stops_still_reports_how_much_it_dropped()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 10, 0, 0, TimeSpan.Zero));
        var reports = new List<long>();
        using var budget = new MinuteBudget(() => 2, time, reports.Add);

        var taken = Enumerable.Range(0, 7).Select(_ => budget.TryTake()).ToList();
        Assert.Equal([true, true, false, false, false, false, false], taken);
        Assert.Empty(reports);

        time.Advance(TimeSpan.FromSeconds(65));

        Assert.Equal([5L], reports);
        Assert.True(budget.TryTake());
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal([5L], reports);
    }
}
