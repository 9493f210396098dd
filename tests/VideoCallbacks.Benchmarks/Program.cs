using VideoCallbacks.Benchmarks;
using VideoCallbacks.Benchmarks.Reliability;

// Temporary, until the reliability command runs it: hostile [--db sqlite|postgres|both] [--hostile 10000] [--ci]
if (args is ["hostile", .. var rest])
{
    var hostile = ReliabilityOptions.Parse(["--scenario", "hostile", .. rest]);
    var rows = new List<ScenarioReport>();
    foreach (var db in hostile.Dbs) rows.Add(await HostileInputScenario.RunAsync(hostile, db));
    Console.WriteLine(ScenarioReport.MarkdownHeader + "\n" + string.Join("\n", rows.Select(r => r.MarkdownRow())));
    Environment.Exit(rows.All(r => r.Passed) ? 0 : 1);
}

// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- <ingest|direct|bus> [--db sqlite|postgres]
//   [--concurrency 64] [--seconds 20] [--rate 1000] [--jobs 5000]
var options = BenchmarkOptions.Parse(args);
var result = options.Mode switch
{
    "ingest" => await CallbackBenchmarks.IngestOverHttpAsync(options),
    "direct" => await CallbackBenchmarks.DirectDatabaseAsync(options),
    "wrk" => await CallbackBenchmarks.IngestWithWrkAsync(options),
    "batch" => await CallbackBenchmarks.GroupCommitOnlyAsync(options),
    "bus" => await CallbackBenchmarks.CallbackToBusAsync(options),
    _ => throw new ArgumentException($"unknown mode '{options.Mode}'; use ingest, direct or bus"),
};
Console.WriteLine(result);
