using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>The service's metrics (meter "VideoCallbacks") and spans (ActivitySource "VideoCallbacks").</summary>
public sealed class Telemetry : IDisposable
{
    public const string ServiceName = "VideoCallbacks";
    public const string MeterName = "VideoCallbacks";
    public const string SourceName = "VideoCallbacks";

    /// <summary>
    /// Spans: <c>extension.submit</c>, <c>callback.verify</c>, <c>ingest.commit</c> (linked to every request
    /// whose item it commits), <c>provider.status_check</c>, <c>relay.publish</c>.
    /// </summary>
    public static readonly ActivitySource Source = new(SourceName);

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
    /// OpenTelemetry through its hosting package: this service's ActivitySource and Meter, ASP.NET Core,
    /// HttpClient and runtime instrumentation. Exported over OTLP (traces, metrics, logs) only when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; otherwise nothing leaves the process.
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<Telemetry>();
        var export = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(Telemetry.ServiceName))
            .WithTracing(t =>
            {
                t.AddSource(Telemetry.SourceName)
                    .AddAspNetCoreInstrumentation(o => o.EnrichWithHttpRequest = (activity, _) => RedactUrl(activity))
                    .AddHttpClientInstrumentation(o => o.EnrichWithHttpRequestMessage = (activity, _) => RedactUrl(activity));
                // With no exporter nobody reads recorded spans: keep only the trace context (ids still flow to
                // logs, the outbox and the bus) unless the caller's trace is sampled. Recording costs ingest speed.
                if (!export) t.SetSampler(new ParentBasedSampler(new AlwaysOffSampler()));
            })
            .WithMetrics(m => m.AddMeter(Telemetry.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());
        if (export)
        {
            // Logs over OTLP go through the redaction too: callback URLs carry per-job tokens.
            otel.WithLogging(l => l.AddProcessor(new RedactingLogProcessor()));
            otel.UseOtlpExporter();
        }
        return services;
    }

    /// <summary>Callback URLs carry the per-job token in their path: never put it on a span.</summary>
    private static void RedactUrl(Activity activity)
    {
        foreach (var tag in (string[])["url.path", "url.full", "http.target", "http.url"])
        {
            if (activity.GetTagItem(tag) is string value) activity.SetTag(tag, RedactingJsonFormatter.Redact(value));
        }
    }

    /// <summary>Scrubs OTLP log records the same way the console formatter scrubs lines.</summary>
    private sealed class RedactingLogProcessor : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord data)
        {
            if (data.FormattedMessage is not null) data.FormattedMessage = RedactingJsonFormatter.Redact(data.FormattedMessage);
            if (data.Body is not null) data.Body = RedactingJsonFormatter.Redact(data.Body);
            if (data.Attributes is { Count: > 0 } attributes)
            {
                data.Attributes = attributes
                    .Select(a => a.Value is null or bool or int or long or double ? a
                        : new KeyValuePair<string, object?>(a.Key, RedactingJsonFormatter.Redact(Convert.ToString(a.Value, System.Globalization.CultureInfo.InvariantCulture))))
                    .ToList();
            }
        }
    }
}
