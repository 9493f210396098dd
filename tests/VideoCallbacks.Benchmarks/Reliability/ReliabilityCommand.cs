using System.Diagnostics;
using System.Text;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// <c>reliability [--scenario kill|postgres-restart|broker|redis|sigterm|hostile|all] [--db sqlite|postgres|both] [--ci]
/// [--kills N] [--seconds N]</c>: runs the fault scenarios, prints a row each and, outside <c>--ci</c>, updates the
/// table in docs/reliability.md. Answers the exit code: 1 on any failure or loss.
/// </summary>
public static class ReliabilityCommand
{
    private sealed record Scenario(string Name, string Title, string[] Dbs, string[] CiDbs, Func<ReliabilityOptions, string, string, Task<ScenarioReport>> Run);

    /// <summary>The scenarios in order; each lists the databases it makes sense on, and the ones the CI slice runs.</summary>
    private static readonly Scenario[] Scenarios =
    [
        new("kill", "1. kill -9 under load", ["sqlite", "postgres"], ["sqlite"], FaultScenarios.KillAsync),
        new("postgres-restart", "2. PostgreSQL stopped and restarted", ["postgres"], ["postgres"], (o, _, c) => FaultScenarios.PostgresRestartAsync(o, c)),
        new("broker", "3. broker faults under load", ["sqlite", "postgres"], ["postgres"], FaultScenarios.BrokerAsync),
        new("redis", "4. Redis killed and restarted", ["postgres"], ["postgres"], (o, _, c) => FaultScenarios.RedisAsync(o, c)),
        // CI: one instance on SQLite (one SIGTERM); the rolling restart of two on PostgreSQL runs in the full suite.
        new("sigterm", "5. SIGTERM under load", ["sqlite", "postgres"], ["sqlite"], FaultScenarios.SigtermAsync),
        new("hostile", "6. hostile input", ["sqlite", "postgres"], ["sqlite", "postgres"], (o, db, _) => HostileInputScenario.RunAsync(o, db)),
    ];

    public static async Task<int> RunAsync(ReliabilityOptions o)
    {
        var chosen = Scenarios.Where(s => o.Scenario == "all" || s.Name == o.Scenario).ToList();
        if (chosen.Count == 0)
        {
            await Console.Error.WriteLineAsync($"unknown scenario '{o.Scenario}'; use {string.Join(", ", Scenarios.Select(s => s.Name))} or all");
            return 2;
        }

        var explicitDb = o.Dbs.Count == 1;
        var reports = new List<ScenarioReport>();
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"reliability: {Machine.Describe()}, load {Machine.LoadAverage()}");
        Console.WriteLine(ScenarioReport.MarkdownHeader);
        foreach (var scenario in chosen)
        {
            var dbs = (o.Ci && !explicitDb ? scenario.CiDbs : scenario.Dbs).Where(o.Dbs.Contains).ToList();
            foreach (var db in dbs)
            {
                var command = $"dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- reliability --scenario {scenario.Name} --db {db}" +
                    (o.Ci ? " --ci" : $" --kills {o.Kills} --seconds {(int)o.Duration.TotalSeconds}");
                var started = clock.Elapsed;
                ScenarioReport report;
                try
                {
                    report = await scenario.Run(o, db, command);
                }
                catch (Exception e)
                {
                    // A scenario that could not finish is a failure with its reason, never a silent skip.
                    await Console.Error.WriteLineAsync($"{scenario.Name} ({db}) failed: {e}");
                    report = new ScenarioReport(scenario.Title, db, 0, 0, 0, 0, 0, 0, 0, [$"did not finish: {FirstLine(e.Message)}"], "", command);
                }
                reports.Add(report);
                Console.WriteLine(report.MarkdownRow());
                foreach (var failure in report.Failures) Console.WriteLine($"  FAIL {report.Scenario} ({report.Db}): {failure}");
                Console.WriteLine($"  ({(clock.Elapsed - started).TotalSeconds:0} s)");
            }
        }

        var failed = reports.Count(r => !r.Passed);
        Console.WriteLine($"reliability summary: {reports.Count} runs, {reports.Count - failed} passed, {failed} failed; " +
            $"sent {reports.Sum(r => r.Sent):N0}, acknowledged {reports.Sum(r => r.Acknowledged):N0}, committed {reports.Sum(r => r.Committed):N0}, " +
            $"published {reports.Sum(r => r.Published):N0}, lost {reports.Sum(r => r.Lost):N0}; {clock.Elapsed.TotalSeconds:0} s");
        if (!o.Ci) await UpdateDocsAsync(reports);
        return failed == 0 ? 0 : 1;
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    private const string Begin = "<!-- reliability-table:begin -->";
    private const string End = "<!-- reliability-table:end -->";

    /// <summary>Replaces the rows of the scenarios just run in docs/reliability.md's table, keeping the others.</summary>
    private static async Task UpdateDocsAsync(IReadOnlyList<ScenarioReport> reports)
    {
        var path = FindDocs();
        if (path is null)
        {
            await Console.Error.WriteLineAsync("docs/reliability.md not found (run from the repository); table not updated");
            return;
        }
        var text = await File.ReadAllTextAsync(path);
        var start = text.IndexOf(Begin, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            await Console.Error.WriteLineAsync($"{path} has no {Begin} ... {End} markers; table not updated");
            return;
        }
        var rows = text[(start + Begin.Length)..end].Split('\n')
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| scenario |", StringComparison.Ordinal) && !l.StartsWith("|---", StringComparison.Ordinal))
            .ToList();
        foreach (var report in reports)
        {
            var key = $"| {report.Scenario} ({report.Db}) |";
            var row = report.MarkdownRow();
            var at = rows.FindIndex(r => r.StartsWith(key, StringComparison.Ordinal));
            if (at >= 0) rows[at] = row;
            else rows.Add(row);
        }
        rows.Sort(StringComparer.Ordinal);
        var table = new StringBuilder().Append(Begin).Append('\n')
            .Append(ScenarioReport.MarkdownHeader).Append('\n');
        foreach (var row in rows) table.Append(row).Append('\n');
        await File.WriteAllTextAsync(path, text[..start] + table + text[end..]);
        Console.WriteLine($"updated {path}");
    }

    private static string? FindDocs()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "reliability.md");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
