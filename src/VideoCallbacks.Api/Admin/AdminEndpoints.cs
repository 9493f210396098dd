using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Admin;

/// <summary>Operator tools: see what failed and put it right without touching the database. Admin keys only; every change is audited.</summary>
public static class AdminEndpoints
{
    public const int MaxPage = 500;
    public const int MaxBulk = 10_000;

    private const string DuplicateDetectionWarning =
        "The event was already published; if the topic has duplicate detection on, the broker drops this re-send when it falls inside the detection window.";

    public static IServiceCollection AddAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<AdminStore>();
        services.AddSingleton<CallbackReprocessor>();
        services.AddValidatedOptions<RetentionOptions>(configuration, RetentionOptions.Section);
        services.AddHostedService<RetentionWorker>();
        return services;
    }

    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin")
            .WithTags("Admin")
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .RequireRateLimiting(RateLimits.ClientPolicy);
        group.MapGet("/events", ListEvents).WithSummary("Outbox events by publish status, provider, type and time, with cursor paging.");
        group.MapPost("/events/{eventId}/replay", ReplayEvent).WithSummary("Put one failed event (or, with force=true, a published one) back to pending.").ProducesProblem(404);
        group.MapPost("/events/replay", ReplayEvents).WithSummary("Replay every event matching a filter (bounded; dryRun counts only).");
        group.MapPost("/events/purge", PurgeEvents).WithSummary("Delete failed events an operator has given up on (dryRun counts only).");
        group.MapGet("/callbacks", ListCallbacks).WithSummary("Stored callbacks by outcome, provider and time, with cursor paging.");
        group.MapPost("/callbacks/{id:long}/reprocess", Reprocess).WithSummary("Re-run normalization and the state machine on a stored verified callback.").ProducesProblem(404);
        group.MapGet("/audit", ListAudit).WithSummary("Who replayed or reprocessed what, and when.");
        return group;
    }

    private static async Task<Results<Ok<Page<AdminEvent>>, ValidationProblem>> ListEvents(HttpRequest http, AdminStore store, ApiKeyRegistry keys, ProviderRegistry providers, CancellationToken ct)
    {
        var q = new QueryReader(http.Query);
        var client = q.OneOf("client", [.. keys.Clients]);
        var status = q.OneOf("status", PublishStatuses.Pending, PublishStatuses.Published, PublishStatuses.Failed);
        var provider = q.OneOf("provider", [.. providers.Names]);
        var type = q.OneOf("type", EventTypes.All);
        var (since, until) = q.TimeRange("since", "until");
        var limit = q.Int("limit", 100, 1, MaxPage);
        var cursor = q.Long("cursor");
        if (q.Errors.Count > 0) return TypedResults.ValidationProblem(q.Errors, title: "The query is invalid.");
        var events = await store.ListEventsAsync(new EventFilter(status, provider, type, since, until, cursor, limit, client), ct);
        return TypedResults.Ok(new Page<AdminEvent>(events.Select(AdminViews.ToAdminEvent).ToList(),
            events.Count == limit ? events[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null));
    }

    private static async Task<Results<Ok<EventReplayResult>, ProblemHttpResult>> ReplayEvent(
        string eventId, HttpContext http, AdminStore store, OutboxSignal signal, TimeProvider time, CancellationToken ct, bool force = false)
    {
        var e = eventId.Length <= 200 ? await store.GetEventAsync(eventId, ct) : null;
        if (e is null) return Problems.NotFound("No such event.", $"There is no event '{eventId}'.");
        switch (e.PublishStatus)
        {
            case PublishStatuses.Pending:
                return Problems.Status(409, "Event is already pending.", "It will be published by the relay; there is nothing to replay.");
            case PublishStatuses.Published when !force:
                return Problems.Status(409, "Event was already published.",
                    "Replaying a published event sends it again. Pass force=true to do it anyway. " + DuplicateDetectionWarning);
        }
        var replayed = await store.ReplayEventsAsync([e.Sequence], includePublished: force, time.GetUtcNow(), ct);
        await store.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "events.replay", eventId, replayed, force ? "force" : null, ct);
        signal.Notify();
        return TypedResults.Ok(new EventReplayResult(replayed, e.PublishStatus == PublishStatuses.Published ? DuplicateDetectionWarning : null));
    }

    private static async Task<Results<Ok<BulkReplayResult>, ValidationProblem>> ReplayEvents(
        ReplayFilter filter, HttpContext http, AdminStore store, ApiKeyRegistry keys, ProviderRegistry providers, OutboxSignal signal, TimeProvider time, CancellationToken ct)
    {
        var (eventFilter, errors) = Validate(filter, keys, providers, allowPublished: filter.Force);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The replay filter is invalid.");
        var matched = await store.ListEventsAsync(eventFilter!, ct);
        var warning = eventFilter!.Status == PublishStatuses.Published ? DuplicateDetectionWarning : null;
        if (filter.DryRun) return TypedResults.Ok(new BulkReplayResult(0, matched.Count, true, warning));
        var replayed = await store.ReplayEventsAsync(matched.Select(e => e.Sequence).ToList(), includePublished: filter.Force, time.GetUtcNow(), ct);
        await store.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "events.replay-bulk", Describe(filter), replayed,
            $"matched {matched.Count}", ct);
        signal.Notify();
        return TypedResults.Ok(new BulkReplayResult(replayed, matched.Count, false, warning));
    }

    private static async Task<Results<Ok<PurgeResult>, ValidationProblem>> PurgeEvents(
        ReplayFilter filter, HttpContext http, AdminStore store, ApiKeyRegistry keys, ProviderRegistry providers, TimeProvider time, CancellationToken ct)
    {
        if (filter.Status is not null && filter.Status != PublishStatuses.Failed)
        {
            return Problems.Validation("status", "Only failed events can be purged; published ones are pruned by retention.");
        }
        var (eventFilter, errors) = Validate(filter with { Status = PublishStatuses.Failed }, keys, providers, allowPublished: false);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The purge filter is invalid.");
        var matched = await store.ListEventsAsync(eventFilter!, ct);
        if (filter.DryRun) return TypedResults.Ok(new PurgeResult(0, matched.Count, true));
        var purged = await store.PurgeFailedEventsAsync(matched.Select(e => e.Sequence).ToList(), ct);
        await store.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "events.purge", Describe(filter), purged, $"matched {matched.Count}", ct);
        return TypedResults.Ok(new PurgeResult(purged, matched.Count, false));
    }

    private static async Task<Results<Ok<Page<AdminCallback>>, ValidationProblem>> ListCallbacks(HttpRequest http, AdminStore store, ProviderRegistry providers, CancellationToken ct)
    {
        var q = new QueryReader(http.Query);
        var outcome = q.OneOf("outcome", [.. CallbackOutcomes.All]);
        var provider = q.OneOf("provider", [.. providers.Names]);
        var (since, until) = q.TimeRange("since", "until");
        var limit = q.Int("limit", 100, 1, MaxPage);
        var cursor = q.Long("cursor");
        if (q.Errors.Count > 0) return TypedResults.ValidationProblem(q.Errors, title: "The query is invalid.");
        var callbacks = await store.ListCallbacksAsync(new CallbackFilter(outcome, provider, since, until, cursor, limit), ct);
        return TypedResults.Ok(new Page<AdminCallback>(callbacks.Select(AdminViews.ToAdminCallback).ToList(),
            callbacks.Count == limit ? callbacks[^1].Id.ToString(CultureInfo.InvariantCulture) : null));
    }

    private static async Task<Results<Ok<ReprocessResult>, ProblemHttpResult>> Reprocess(long id, HttpContext http, CallbackReprocessor reprocessor, CancellationToken ct)
    {
        var outcome = await reprocessor.ReprocessAsync(id, http.User.KeyId(), ct);
        return outcome.Result is { } result ? TypedResults.Ok(result) : Problems.Status(outcome.Status, outcome.Title!, outcome.Detail);
    }

    private static async Task<Results<Ok<Page<AuditEntry>>, ValidationProblem>> ListAudit(HttpRequest http, AdminStore store, CancellationToken ct)
    {
        var q = new QueryReader(http.Query);
        var limit = q.Int("limit", 100, 1, MaxPage);
        var cursor = q.Long("cursor");
        if (q.Errors.Count > 0) return TypedResults.ValidationProblem(q.Errors, title: "The query is invalid.");
        var entries = await store.ListAuditAsync(cursor, limit, ct);
        return TypedResults.Ok(new Page<AuditEntry>(entries, entries.Count == limit ? entries[^1].Id.ToString(CultureInfo.InvariantCulture) : null));
    }

    private static (EventFilter? Filter, Dictionary<string, string[]> Errors) Validate(ReplayFilter f, ApiKeyRegistry keys, ProviderRegistry providers, bool allowPublished)
    {
        var errors = new Dictionary<string, string[]>();
        var status = f.Status ?? PublishStatuses.Failed;
        if (status != PublishStatuses.Failed && !(allowPublished && status == PublishStatuses.Published))
        {
            errors["status"] = [allowPublished
                ? "status must be 'failed' or 'published'."
                : "status must be 'failed'; replaying published events needs force=true (the topic's duplicate detection may drop them)."];
        }
        if (f.Provider is not null && !providers.IsKnown(f.Provider)) errors["provider"] = [$"provider must be one of {providers.NamesText}."];
        if (f.Type is not null && !EventTypes.All.Contains(f.Type))
        {
            errors["type"] = ["type must be one of the video.extension.* event types."];
        }
        if (f.Client is not null && !keys.Clients.Contains(f.Client)) errors["client"] = [$"client must be one of: {string.Join(", ", keys.Clients)}."];
        if (!TimeRangeIsValid(f.Since, f.Until)) errors["until"] = [TimeRangeMessage];
        if (f.Limit is < 1 or > MaxBulk) errors["limit"] = [$"limit must be between 1 and {MaxBulk}."];
        return (errors.Count > 0 ? null : new EventFilter(status, f.Provider, f.Type, f.Since, f.Until, null, f.Limit ?? 1000, f.Client), errors);
    }

    /// <summary>
    /// One rule for every admin time filter, listing or bulk: a backwards range (until before since) is a mistake
    /// and a 400; since == until is a valid, empty range (since is inclusive, until exclusive).
    /// </summary>
    internal static bool TimeRangeIsValid(DateTimeOffset? since, DateTimeOffset? until) => since is null || until is null || since <= until;

    internal const string TimeRangeMessage = "until must not be earlier than since (since is inclusive, until exclusive).";

    private static string Describe(ReplayFilter f) => JsonSerializer.Serialize(f with { DryRun = false });
}
