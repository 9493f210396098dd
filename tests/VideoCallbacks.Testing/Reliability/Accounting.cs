namespace VideoCallbacks.Testing.Reliability;

/// <summary>
/// One observation the load generator reported to the service: a provider callback (its retries included) or a
/// submission. <paramref name="ExpectedEventId"/> is "its event": the id the service derives from the state the
/// observation reports (<c>{job}:progress:{p}</c>, <c>{job}:completed</c>, <c>{job}:failed</c>, <c>{job}:submitted</c>).
/// A duplicate, or news older than the job's state (progress after the final result), carries no news of its own:
/// its event is the one that already holds that state, so N acknowledged copies still need exactly one event.
/// </summary>
public sealed record SentObservation(string JobId, string ExpectedEventId, bool Acknowledged);

/// <summary>What the broker saw: the MessageIds it kept, every MessageId of every send it accepted, and how many it dropped as duplicates.</summary>
public sealed record BrokerRecord(IReadOnlyList<string> KeptMessageIds, IReadOnlyList<string> AcceptedSendIds, long DuplicatesDropped);

/// <summary>The outcome of <see cref="Accounting.Settle"/>; <see cref="Lost"/> is what the suite must keep at zero.</summary>
public sealed record AccountingResult(
    int ExpectedEvents,
    int CommittedEvents,
    int PublishedMessages,
    int MissingEvents,
    int DoubledEvents,
    int Unpublished,
    int PublishedTwice,
    int UnexplainedEvents,
    int UnexplainedMessages,
    IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Acknowledged observations without their event, events committed more than once, and committed events the
    /// broker did not keep exactly once.
    /// </summary>
    public int Lost => MissingEvents + DoubledEvents + Unpublished + PublishedTwice;

    public bool Passed => Lost == 0 && Problems.Count == 0;
}

/// <summary>
/// The reliability suite's rule of what counts as lost, as a pure function of what was sent, what the service
/// committed and what the broker saw.
/// </summary>
public static class Accounting
{
    private const int Examples = 5;

    public static AccountingResult Settle(IReadOnlyList<SentObservation> sent, IReadOnlyList<string> committedEventIds, BrokerRecord broker)
    {
        var problems = new List<string>();
        var committed = Count(committedEventIds);
        var kept = Count(broker.KeptMessageIds);

        // Every acknowledged observation has its event, exactly once.
        var expected = sent.Where(s => s.Acknowledged).Select(s => s.ExpectedEventId).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(id => !committed.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        Report(problems, missing, "acknowledged but never committed");
        var doubled = committed.Where(kv => kv.Value > 1).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        Report(problems, doubled, "committed more than once");

        // An event nobody reported (not even unacknowledged: a commit whose answer was lost is fine) was made up.
        var reported = sent.Select(s => s.ExpectedEventId).ToHashSet(StringComparer.Ordinal);
        var unexplained = committed.Keys.Where(id => !reported.Contains(id)).Order(StringComparer.Ordinal).ToList();
        Report(problems, unexplained, "committed without any observation that explains it");

        // Every committed event reached the broker exactly once by MessageId.
        var unpublished = committed.Keys.Where(id => !kept.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        Report(problems, unpublished, "committed but never kept by the broker");
        var twice = kept.Where(kv => kv.Value > 1).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        Report(problems, twice, "kept by the broker more than once");
        var strangers = kept.Keys.Where(id => !committed.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        Report(problems, strangers, "kept by the broker but never committed");

        // Extra accepted sends are fine only as re-sends the broker dropped by MessageId.
        var extraSends = broker.AcceptedSendIds.Count - broker.KeptMessageIds.Count;
        if (extraSends != broker.DuplicatesDropped)
        {
            problems.Add($"the broker accepted {broker.AcceptedSendIds.Count} sends and kept {broker.KeptMessageIds.Count} messages, " +
                $"but dropped {broker.DuplicatesDropped} duplicates (expected {extraSends})");
        }
        var strangeSends = broker.AcceptedSendIds.Where(id => !committed.ContainsKey(id)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Report(problems, strangeSends, "sent to the broker but never committed");

        return new AccountingResult(expected.Count, committed.Count, kept.Count, missing.Count, doubled.Count, unpublished.Count, twice.Count,
            unexplained.Count, strangers.Count + strangeSends.Except(strangers, StringComparer.Ordinal).Count(), problems);
    }

    private static Dictionary<string, int> Count(IEnumerable<string> ids)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in ids) counts[id] = counts.GetValueOrDefault(id) + 1;
        return counts;
    }

    private static void Report(List<string> problems, List<string> ids, string what)
    {
        if (ids.Count == 0) return;
        problems.Add($"{ids.Count} event(s) {what}: {string.Join(", ", ids.Take(Examples))}{(ids.Count > Examples ? ", ..." : "")}");
    }
}
