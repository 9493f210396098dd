using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenTelemetry.Trace;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Telemetry;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Callback_request_produces_a_server_span_with_verification_and_a_linked_group_commit_and_no_token_on_any_span()
    {
        var spans = new SpanCollection();
        await using var app = await TestApp.StartAsync(Db.Sqlite, services: s => s.ConfigureOpenTelemetryTracerProvider(t => t
            // Without an OTLP endpoint the service records nothing; record everything here to look at it.
            .SetSampler(new AlwaysOnSampler())
            .AddInMemoryExporter(spans)));

        var job = await app.Driver.SubmitAsync(Kie(sourceTaskId: "otel-kie"));
        await app.Driver.WaitForEventsAsync([job.JobId()], "video.extension.completed");
        var callbackUrl = app.SubmissionFor(KieSubmitPath, "taskId", "otel-kie").Json().GetProperty("callBackUrl").GetString()!;
        var token = callbackUrl[(callbackUrl.LastIndexOf('/') + 1)..];

        // The tracer listens to the process-wide activity source, so other tests' apps add spans here too: pick ours by job id.
        var jobId = job.JobId();
        bool OurVerify(Activity a) => a.OperationName == "callback.verify" && Equals(a.GetTagItem("videocallbacks.job_id"), jobId)
            && Equals(a.GetTagItem("videocallbacks.verified"), true);
        bool AnsweredOk(Activity a) => a.Kind == ActivityKind.Server && a.GetTagItem("http.route") is string r
            && r.Contains("callbacks", StringComparison.Ordinal) && Equals(a.GetTagItem("http.response.status_code"), 200);
        var all = await Wait.UntilAsync(() => Task.FromResult(spans.Snapshot()),
            s => s.Any(v => OurVerify(v) && s.Any(r => AnsweredOk(r) && r.SpanId == v.ParentSpanId
                 && s.Any(c => c.OperationName == "ingest.commit" && c.Links.Any(l => l.Context.TraceId == r.TraceId)))),
            "callback spans");

        // The simulator re-sends a callback that was not answered in time (a loaded machine): look at the one answered 200.
        var request = all.First(r => AnsweredOk(r) && all.Any(v => OurVerify(v) && v.ParentSpanId == r.SpanId));
        var verify = Assert.Single(all, a => a.OperationName == "callback.verify" && a.ParentSpanId == request.SpanId);
        Assert.Equal("kie", verify.GetTagItem("videocallbacks.provider"));
        Assert.Equal(true, verify.GetTagItem("videocallbacks.verified"));
        Assert.Equal(200, request.GetTagItem("http.response.status_code"));
        // One commit serves many requests: it is linked to the callback's trace rather than parented by it.
        Assert.Contains(all, a => a.OperationName == "ingest.commit" && a.Links.Any(l => l.Context.TraceId == request.TraceId));
        // The submission has its own span, with the provider call (HttpClient instrumentation) beneath it.
        var submit = Assert.Single(all, a => a.OperationName == "extension.submit" && Equals(a.GetTagItem("videocallbacks.job_id"), jobId));
        Assert.Contains(all, a => a.Kind == ActivityKind.Client && a.TraceId == submit.TraceId);

        foreach (var span in all)
        {
            foreach (var (key, value) in span.TagObjects)
            {
                Assert.DoesNotContain(token, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "", StringComparison.Ordinal);
            }
            Assert.DoesNotContain(token, span.DisplayName, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Callbacks_are_counted_by_provider_and_outcome_on_the_service_meter()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        using var collector = new MetricCollector<long>(app.Get<IMeterFactory>(), Api.Infrastructure.Telemetry.MeterName, "videocallbacks.callbacks");

        var job = await app.Driver.SubmitAsync(Apiframe(sourceTaskId: "metrics-apiframe"));
        await app.Driver.WaitForEventsAsync([job.JobId()], "video.extension.completed");

        await Wait.UntilAsync(() => Task.FromResult(collector.GetMeasurementSnapshot()),
            m => m.Any(x => x.MatchesTags(new KeyValuePair<string, object?>("provider", "apiframe"), new KeyValuePair<string, object?>("outcome", "accepted"))),
            "an accepted apiframe callback measurement");
        Assert.All(collector.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));
    }

    /// <summary>The exporter appends from the service's threads while the test reads: every access under one lock.</summary>
    private sealed class SpanCollection : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items) return _items.Count;
            }
        }

        public bool IsReadOnly => false;

        public IReadOnlyList<Activity> Snapshot()
        {
            lock (_items) return _items.ToArray();
        }

        public void Add(Activity item)
        {
            lock (_items) _items.Add(item);
        }

        public void Clear()
        {
            lock (_items) _items.Clear();
        }

        public bool Contains(Activity item)
        {
            lock (_items) return _items.Contains(item);
        }

        public void CopyTo(Activity[] array, int arrayIndex)
        {
            lock (_items) _items.CopyTo(array, arrayIndex);
        }

        public bool Remove(Activity item)
        {
            lock (_items) return _items.Remove(item);
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
