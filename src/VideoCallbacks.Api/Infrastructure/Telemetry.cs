using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>The service's metrics (System.Diagnostics.Metrics, meter "VideoCallbacks").</summary>
public sealed class Telemetry : IDisposable
{
    public const string MeterName = "VideoCallbacks";

    private readonly Meter _meter;
    private readonly Counter<long> _callbacks;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _commitMs;
    private readonly Counter<long> _published;
    private readonly Counter<long> _publishFailures;
    private readonly Histogram<double> _publishMs;
    private readonly Histogram<double> _relayLagMs;
    private readonly Counter<long> _providerChecks;

    public Telemetry(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _callbacks = _meter.CreateCounter<long>("videocallbacks.callbacks", description: "Callbacks received, by provider and outcome");
        _batchSize = _meter.CreateHistogram<int>("videocallbacks.ingest.batch_size", description: "Callbacks per group-commit transaction");
        _commitMs = _meter.CreateHistogram<double>("videocallbacks.ingest.commit", "ms", "Group-commit transaction time");
        _published = _meter.CreateCounter<long>("videocallbacks.relay.published", description: "Events accepted by the bus");
        _publishFailures = _meter.CreateCounter<long>("videocallbacks.relay.failures", description: "Failed publish attempts, by kind");
        _publishMs = _meter.CreateHistogram<double>("videocallbacks.relay.publish", "ms", "Time of one publish call");
        _relayLagMs = _meter.CreateHistogram<double>("videocallbacks.relay.lag", "ms", "Event committed to event accepted by the bus");
        _providerChecks = _meter.CreateCounter<long>("videocallbacks.provider.checks", description: "Status queries to providers, by provider and result");
    }

    public long Now() => Stopwatch.GetTimestamp();

    public void Callback(string provider, string outcome) =>
        _callbacks.Add(1, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("outcome", outcome));

    public void IngestBatch(int size, long started)
    {
        _batchSize.Record(size);
        _commitMs.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public void Published(int count, long started, IEnumerable<TimeSpan> lags)
    {
        _published.Add(count);
        _publishMs.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        foreach (var lag in lags) _relayLagMs.Record(lag.TotalMilliseconds);
    }

    public void PublishFailed(string kind) => _publishFailures.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void ProviderCheck(string provider, string result) =>
        _providerChecks.Add(1, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("result", result));

    public void Dispose() => _meter.Dispose();
}

public static class TelemetryExtensions
{
    /// <summary>
    /// The meter is always there (dotnet-counters can read it); with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set,
    /// it is also pushed over OTLP. Wired by hand: the OpenTelemetry hosting package does not restore here.
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<Telemetry>();
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
                .AddMeter(Telemetry.MeterName)
                .AddOtlpExporter()
                .Build());
            services.AddHostedService<MeterProviderHost>();
        }
        return services;
    }

    /// <summary>Creates the exporter at start-up (and disposes it, flushing, with the container).</summary>
    private sealed class MeterProviderHost(MeterProvider provider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            provider.ForceFlush(2000);
            return Task.CompletedTask;
        }
    }
}
