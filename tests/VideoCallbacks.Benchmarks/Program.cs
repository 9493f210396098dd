using VideoCallbacks.Benchmarks;
using VideoCallbacks.Benchmarks.Reliability;

// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- reliability [--scenario name|all] [--db sqlite|postgres|both]
//   [--ci] [--kills 20] [--seconds 60]: the fault suite (docs/reliability.md); exit code 1 on any failure or loss.
if (args.Length > 0 && args[0] == "reliability")
{
    return await ReliabilityCommand.RunAsync(ReliabilityOptions.Parse(args[1..]));
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
return 0;
