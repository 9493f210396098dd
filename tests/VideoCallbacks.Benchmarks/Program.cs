using VideoCallbacks.Benchmarks;

// dotnet run -c Release --project tests/VideoCallbacks.Benchmarks -- <ingest|direct|bus> [--db sqlite|postgres]
//   [--concurrency 64] [--seconds 20] [--rate 1000] [--jobs 5000]
var options = BenchmarkOptions.Parse(args);
var result = options.Mode switch
{
    "ingest" => await CallbackBenchmarks.IngestOverHttpAsync(options),
    "direct" => await CallbackBenchmarks.DirectDatabaseAsync(options),
    "batch" => await CallbackBenchmarks.GroupCommitOnlyAsync(options),
    "bus" => await CallbackBenchmarks.CallbackToBusAsync(options),
    _ => throw new ArgumentException($"unknown mode '{options.Mode}'; use ingest, direct or bus"),
};
Console.WriteLine(result);
