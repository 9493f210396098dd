using System.ComponentModel.DataAnnotations;
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
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00", ErrorMessage = "Events:PollInterval must be between 00:00:00.010 and 00:05:00.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an idle stream sends a <c>:</c> comment, so idle timeouts (client, proxy) do not cut it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00", ErrorMessage = "Events:Heartbeat must be between 00:00:00.050 and 00:10:00.")]
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Open streams per client on one instance; past it, 429.</summary>
    [Range(1, 100_000, ErrorMessage = "Events:MaxStreamsPerClient must be between 1 and 100000.")]
    public int MaxStreamsPerClient { get; set; } = 20;
}

/// <summary>The outbox read as a feed: every event in order, whatever the transport.</summary>
public static class EventFeedEndpoints
{
    public const int MaxLimit = 1000;

    public static IServiceCollection AddEventFeed(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<EventFeedOptions>(configuration, EventFeedOptions.Section);
        services.AddSingleton<FeedQueries>();
        services.AddSingleton<StreamSlots>();
        services.AddSingleton<EventFanout>();
        services.AddHostedService(sp => sp.GetRequiredService<EventFanout>());
        return services;
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

    private static async Task<Results<Ok<EventPage>, ValidationProblem>> Page(HttpContext http, FeedQueries store, CancellationToken ct, long after = 0, int limit = 100)
    {
        if (after < 0) return Problems.Validation("after", "after must be a sequence number of 0 or more.");
        if (limit is < 1 or > MaxLimit) return Problems.Validation("limit", $"limit must be between 1 and {MaxLimit}.");
        // A client reads its own events; an admin key every client's.
        var events = await store.ReadEventsAsync(after, limit, ct, http.User.VisibleClient());
        return TypedResults.Ok(new EventPage(events.Select(e => e.ToCloudEvent()).ToList(), events.Count == 0 ? after : events[^1].Sequence));
    }

    private static Results<EventStreamResult, ValidationProblem, ProblemHttpResult> Stream(
        HttpRequest request, StreamSlots slots, IOptions<EventFeedOptions> options, long? after = null)
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
        var user = request.HttpContext.User;
        var client = user.VisibleClient();
        // An admin key's streams count against the key itself; a client's against the client, whichever key it uses.
        if (slots.TryTake(client is null ? "admin:" + user.KeyId() : "client:" + client) is not { } slot)
        {
            request.HttpContext.Response.Headers.RetryAfter = "10";
            return Problems.Status(StatusCodes.Status429TooManyRequests, "Too many open event streams.",
                $"This client already has {slots.Limit} open streams (Events:MaxStreamsPerClient); close one, or read /v1/events pages instead.");
        }
        return new EventStreamResult(start, client, options.Value.Heartbeat, slot);
    }
}
