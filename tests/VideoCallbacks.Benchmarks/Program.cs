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

// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- <ingest|direct|wrk|batch|bus|pgbench> [--db sqlite|postgres]
//   [--concurrency 64] [--seconds 20] [--rate 1000] [--jobs 5000] [--fsync on|off] [--pgbench] [--diag] [--set Key=Value ...]
var options = BenchmarkOptions.Parse(args);
// Read by the throwaway PostgreSQL server when it starts (the tests leave it off, for speed).
Environment.SetEnvironmentVariable("VC_PG_DURABLE", options.Durable ? "1" : "0");
if (options.Mode == "pgbench" || (options.Baseline && options.Db == "postgres"))
{
    // The raw SQL baseline, on the same server and in the same run as the service figures that follow.
    foreach (var baseline in await PgBench.RunBothAsync(options)) Console.WriteLine(baseline);
    if (options.Mode == "pgbench") return;
}
var result = options.Mode switch
{
    "ingest" => await CallbackBenchmarks.IngestOverHttpAsync(options),
    "direct" => await CallbackBenchmarks.DirectDatabaseAsync(options),
    "wrk" => await CallbackBenchmarks.IngestWithWrkAsync(options),
    "batch" => await CallbackBenchmarks.GroupCommitOnlyAsync(options),
    "bus" => await CallbackBenchmarks.CallbackToBusAsync(options),
    _ => throw new ArgumentException($"unknown mode '{options.Mode}'; use ingest, direct, wrk, batch, bus or pgbench"),
};
Console.WriteLine(result);
