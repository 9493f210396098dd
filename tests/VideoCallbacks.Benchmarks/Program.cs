using VideoCallbacks.Benchmarks;
using VideoCallbacks.Benchmarks.Reliability;

// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- reliability [--scenario name|all] [--db sqlite|postgres|both]
//   [--ci] [--kills 20] [--seconds 60]: the fault suite (docs/reliability.md); exit code 1 on any failure or loss.
if (args.Length > 0 && args[0] == "reliability")
{
    return await ReliabilityCommand.RunAsync(ReliabilityOptions.Parse(args[1..]));
}

// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- <ingest|direct|wrk|batch|bus|pgbench> [--db sqlite|postgres]
//   [--concurrency 64] [--seconds 20] [--rate 1000] [--jobs 5000] [--fsync on|off] [--pgbench] [--bare] [--diag] [--set Key=Value ...]
//   (--bare: wrk against a bare Kestrel endpoint first, in the same run, and the service's rate as a ratio to it)
// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- streams [--db sqlite|postgres] [--streams 1000] [--seconds 20]
//   [--warmup 10] [--set Key=Value ...]: what idle SSE streams cost the service (CPU and RSS above rest).
// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- archive [--db sqlite|postgres] [--archives 20] [--archive-mb 200]
//   [--cdn-mbps 0] [--seconds 15] [--jobs 5000]: ingest p99 under wrk with and without big videos being archived, and peak RSS.
// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- dashboard [--db sqlite|postgres] --jobs 100000: every dashboard
//   page's latency with that many jobs and ten times as many events seeded in bulk.
// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- scale [--db sqlite|postgres] [--jobs 8000] [--seconds 15]: ingest at
//   a small and at a 1M-event store, then the feed, SSE catch-up and admin reads at 1M events.
// The bare-Kestrel child process of `wrk --bare` (BareKestrel.cs).
if (args.Length > 1 && args[0] == BareKestrel.Mode)
{
    return await BareKestrel.ServeAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
}
var options = BenchmarkOptions.Parse(args);
// Read by the throwaway PostgreSQL server when it starts (the tests leave it off, for speed).
Environment.SetEnvironmentVariable("VC_PG_DURABLE", options.Durable ? "1" : "0");
if (options.Mode == "pgbench" || (options.Baseline && options.Db == "postgres"))
{
    // The raw SQL baseline, on the same server and in the same run as the service figures that follow.
    foreach (var baseline in await PgBench.RunBothAsync(options)) Console.WriteLine(baseline);
    if (options.Mode == "pgbench") return 0;
}
// Typed as object: the streams mode's result is not a throughput figure; every result prints itself.
object result = options.Mode switch
{
    "ingest" => await CallbackBenchmarks.IngestOverHttpAsync(options),
    "direct" => await CallbackBenchmarks.DirectDatabaseAsync(options),
    "wrk" => await CallbackBenchmarks.IngestWithWrkAsync(options),
    "batch" => await CallbackBenchmarks.GroupCommitOnlyAsync(options),
    "bus" => await CallbackBenchmarks.CallbackToBusAsync(options),
    "streams" => await StreamBenchmarks.IdleStreamsAsync(options),
    "archive" => await ArchiveBenchmarks.ArchiveUnderIngestAsync(options),
    "dashboard" => await DashboardBenchmarks.PagesAtSizeAsync(options),
    "scale" => await ScaleBenchmarks.AtScaleAsync(options),
    _ => throw new ArgumentException($"unknown mode '{options.Mode}'; use ingest, direct, wrk, batch, bus, streams, archive, dashboard, scale or pgbench"),
};
Console.WriteLine(result);
return 0;
