using System.Globalization;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// The accounting of one reliability scenario: what was sent, what the service acknowledged, what it committed and
/// what the broker accepted. Lost = acknowledged callbacks without exactly their event, plus committed events that
/// did not reach the broker exactly once (by MessageId). Pass = nothing lost and no scenario-specific failure.
/// </summary>
public sealed record ScenarioReport(
    string Scenario,
    string Db,
    long Sent,
    long Acknowledged,
    long NotAcknowledged,
    long Committed,
    long Published,
    long DuplicatesDropped,
    long Lost,
    IReadOnlyList<string> Failures,
    string Notes,
    string Command)
{
    public bool Passed => Lost == 0 && Failures.Count == 0;

    /// <summary>One row of the table in docs/reliability.md.</summary>
    public string MarkdownRow() => string.Create(CultureInfo.InvariantCulture,
        $"| {Scenario} ({Db}) | {Sent:N0} | {Acknowledged:N0} | {NotAcknowledged:N0} | {Committed:N0} | {Published:N0} | {DuplicatesDropped:N0} | **{Lost:N0}** | {(Passed ? "pass" : "FAIL: " + string.Join("; ", Failures))} | {Notes} | `{Command}` |");

    public const string MarkdownHeader =
        "| scenario | sent | acknowledged 2xx | answered otherwise | events committed | published (distinct MessageIds) | duplicates dropped by broker | lost | result | notes | command |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|";
}

/// <summary>Options of <c>reliability</c>: <c>--scenario name|all</c>, <c>--db sqlite|postgres|both</c>, <c>--ci</c> (the bounded slice).</summary>
public sealed record ReliabilityOptions(string Scenario, IReadOnlyList<string> Dbs, bool Ci, int Kills, int HostileRequests, TimeSpan Duration, string Command)
{
    public static ReliabilityOptions Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var ci = args.Contains("--ci");
        var db = Value("--db", "both");
        return new ReliabilityOptions(
            Value("--scenario", "all"),
            db == "both" ? ["sqlite", "postgres"] : [db],
            ci,
            int.Parse(Value("--kills", ci ? "3" : "20"), CultureInfo.InvariantCulture),
            int.Parse(Value("--hostile", ci ? "1000" : "10000"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(int.Parse(Value("--seconds", ci ? "10" : "60"), CultureInfo.InvariantCulture)),
            "dotnet tests/VideoCallbacks.Benchmarks/bin/Release/net10.0/VideoCallbacks.Benchmarks.dll reliability " + string.Join(' ', args));
    }
}
