using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace VideoCallbacks.Api.Events;

/// <summary>
/// <c>/v1/events/stream</c> as Server-Sent Events: status and headers at once, the events after the client's position
/// (its own store reads while far behind, then the shared <see cref="EventFanout"/>), and a <c>:</c> comment every
/// heartbeat while idle so client and proxy idle timeouts never cut a caught-up stream. Written by hand because the
/// framework's <c>TypedResults.ServerSentEvents</c> (SseFormatter) can write neither a comment nor headers before the
/// first event.
/// </summary>
public sealed class EventStreamResult(long after, string? client, TimeSpan heartbeat, IDisposable slot) : IResult, IEndpointMetadataProvider
{
    private const int CatchUpPage = 200;
    private static readonly byte[] HeartbeatBytes = ": heartbeat\n\n"u8.ToArray();

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var _ = slot;
        var http = httpContext;
        var services = http.RequestServices;
        var fanout = services.GetRequiredService<EventFanout>();
        var feed = services.GetRequiredService<FeedQueries>();
        var time = services.GetRequiredService<TimeProvider>();
        var ct = http.RequestAborted;

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Proxies that buffer (nginx) would hold the events back.
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var subscription = fanout.Subscribe();
        var output = response.BodyWriter;
        try
        {
            await response.StartAsync(ct);
            await output.FlushAsync(ct);
            var position = after;
            // One timer per stream, not one per wait: a heartbeat goes out on a tick when nothing else did since the last.
            using var timer = new PeriodicTimer(heartbeat, time);
            Task<bool>? tick = null;
            var wroteSinceTick = false;
            while (!ct.IsCancellationRequested)
            {
                var snapshot = fanout.Current;
                if (!snapshot.Ready || position < snapshot.Floor)
                {
                    // Behind the shared window (or the reader is just starting): read the store until caught up.
                    var head = snapshot.Ready ? snapshot.Head : 0;
                    var page = await feed.ReadEventsAsync(position, CatchUpPage, ct, client);
                    foreach (var e in page) Write(output, e.Sequence, e.Type, e.ToCloudEventJson());
                    if (page.Count > 0)
                    {
                        position = page[^1].Sequence;
                        await output.FlushAsync(ct);
                        wroteSinceTick = true;
                    }
                    if (page.Count == CatchUpPage) continue;
                    // A short page saw every event committed before it ran, so everything up to the window's head too.
                    position = Math.Max(position, head);
                    if (snapshot.Ready && position >= snapshot.Floor) continue;
                }
                else
                {
                    var wrote = false;
                    foreach (var e in snapshot.After(position))
                    {
                        if (client is null || e.Client == client)
                        {
                            Write(output, e.Sequence, e.Type, e.Json);
                            wrote = true;
                        }
                    }
                    position = Math.Max(position, snapshot.Head);
                    if (wrote)
                    {
                        await output.FlushAsync(ct);
                        wroteSinceTick = true;
                    }
                }
                tick ??= timer.WaitForNextTickAsync(ct).AsTask();
                await Task.WhenAny(snapshot.Changed, tick);
                if (tick.IsCompleted)
                {
                    tick = null;
                    if (!wroteSinceTick && !ct.IsCancellationRequested) await output.WriteAsync(HeartbeatBytes, ct);
                    wroteSinceTick = false;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client hung up.
        }
    }

    /// <summary>One event: id = sequence, event = type, data = the CloudEvent (one data line per line of it).</summary>
    private static void Write(PipeWriter output, long sequence, string type, string json)
    {
        var text = new StringBuilder(json.Length + 64)
            .Append("id: ").Append(sequence.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("event: ").Append(type).Append('\n');
        foreach (var line in json.Split('\n')) text.Append("data: ").Append(line.TrimEnd('\r')).Append('\n');
        text.Append('\n');
        Encoding.UTF8.GetBytes(text.ToString(), output);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/event-stream"]));
}
