using System.ComponentModel.DataAnnotations;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Events;

public sealed record EventPage(IReadOnlyList<JsonElement> Events, long Next);

public sealed class EventFeedOptions
{
    public const string Section = "Events";

    /// <summary>How often an idle SSE stream looks for events nobody woke it for (another instance's, without Redis).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>The outbox read as a feed: every event in order, whatever the transport.</summary>
public static class EventFeedEndpoints
{
    public const int MaxLimit = 1000;

    public static IServiceCollection AddEventFeed(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<EventFeedOptions>(configuration, EventFeedOptions.Section);
        return services.AddSingleton<FeedQueries>();
    }

    public static RouteGroupBuilder MapEventFeed(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/events")
            .WithTags("Events")
            .RequireAuthorization(ApiKeyDefaults.ClientPolicy)
            .RequireRateLimiting(RateLimits.ClientPolicy);
        group.MapGet("/", Page).WithSummary("Events after a sequence number, in order.");
        group.MapGet("/stream", Stream).WithSummary("The same events as Server-Sent Events (id = sequence; honours Last-Event-ID).");
        return group;
    }

    private static async Task<Results<Ok<EventPage>, ValidationProblem>> Page(FeedQueries store, CancellationToken ct, long after = 0, int limit = 100)
    {
        if (after < 0) return Problems.Validation("after", "after must be a sequence number of 0 or more.");
        if (limit is < 1 or > MaxLimit) return Problems.Validation("limit", $"limit must be between 1 and {MaxLimit}.");
        var events = await store.ReadEventsAsync(after, limit, ct);
        return TypedResults.Ok(new EventPage(events.Select(e => e.ToCloudEvent()).ToList(), events.Count == 0 ? after : events[^1].Sequence));
    }

    private static Results<ServerSentEventsResult<string>, ValidationProblem> Stream(
        HttpRequest request, FeedQueries store, OutboxSignal signal, IOptions<EventFeedOptions> options, TimeProvider time, long? after = null)
    {
        if (after < 0) return Problems.Validation("after", "after must be a sequence number of 0 or more.");
        var start = after ?? 0;
        if (request.Headers["Last-Event-ID"].FirstOrDefault() is { Length: > 0 } lastId)
        {
            if (!long.TryParse(lastId, out start) || start < 0)
            {
                return Problems.Validation("Last-Event-ID", "Last-Event-ID must be the sequence number of the last event received.");
            }
        }
        return TypedResults.ServerSentEvents(Read(store, signal, options.Value.PollInterval, time, start, request.HttpContext.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<string>> Read(FeedQueries store, OutboxSignal signal, TimeSpan poll, TimeProvider time, long after,
        [EnumeratorCancellation] CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            IReadOnlyList<StoredEvent> batch;
            try
            {
                batch = await store.ReadEventsAsync(after, 200, ct);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            foreach (var e in batch)
            {
                yield return new SseItem<string>(e.ToCloudEventJson(), e.Type) { EventId = e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                after = e.Sequence;
            }
            if (batch.Count < 200)
            {
                try
                {
                    await signal.WaitAsync(poll, time, ct);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }
}
