using Xunit.Abstractions;

[assembly: TestCollectionOrderer("VideoCallbacks.Tests.Infrastructure.LongestFirstOrderer", "VideoCallbacks.Tests")]

namespace VideoCallbacks.Tests.Infrastructure;

/// <summary>
/// Marks a test class whose tests mostly wait (broker back-offs, outages, polling): it starts before the rest, so the
/// suite's wall time is not one long class running alone at the end while the other slots are idle.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class StartsFirstAttribute : Attribute;

/// <summary>
/// Longest-processing-time-first scheduling for xUnit's parallel test classes (xunit.runner.json caps how many run at
/// once): classes marked <see cref="StartsFirstAttribute"/> first, the rest in xUnit's usual order.
/// </summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    private const string Prefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var all = testCollections.ToList();
        return all.Where(StartsFirst).Concat(all.Where(c => !StartsFirst(c)));
    }

    private static bool StartsFirst(ITestCollection collection) =>
        collection.DisplayName.StartsWith(Prefix, StringComparison.Ordinal)
        && typeof(LongestFirstOrderer).Assembly.GetType(collection.DisplayName[Prefix.Length..]) is { } type
        && type.IsDefined(typeof(StartsFirstAttribute), inherit: false);
}
