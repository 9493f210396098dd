using Microsoft.AspNetCore.Http.HttpResults;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Infrastructure;

/// <param name="Outbox">Backlog at a glance (null when the store is unreachable); informational, never a reason to be unready.</param>
/// <param name="Redis">off (not configured), up, or degraded (unreachable: slower, never unready, since the database decides everything).</param>
public sealed record Readiness(string Status, string Store, bool StoreReachable, string Bus, string? BusProblem, OutboxReadiness? Outbox,
    string Redis = RedisStates.Off);

public sealed record OutboxReadiness(long Pending, long Failed, double? OldestPendingSeconds);

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "up" })).WithTags("Health").AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", Ready).WithTags("Health").AllowAnonymous();
        return app;
    }

    private static async Task<Results<Ok<Readiness>, JsonHttpResult<Readiness>>> Ready(
        SqlDatabase store, OutboxStore outboxStore, IEventPublisher publisher, BusReadiness bus, RedisConnection redis, TimeProvider time, CancellationToken ct)
    {
        var reachable = await store.PingAsync(ct);
        var busProblem = bus.Problem;
        var ready = reachable && busProblem is null;
        OutboxReadiness? outbox = null;
        if (reachable)
        {
            try
            {
                var now = time.GetUtcNow();
                var stats = await outboxStore.GetOutboxStatsAsync(now, ct);
                outbox = new OutboxReadiness(stats.Pending, stats.Failed, stats.OldestPendingAt is { } oldest ? Math.Round((now - oldest).TotalSeconds, 1) : null);
            }
            catch (System.Data.Common.DbException)
            {
                // The store went away between the ping and this query; the ping already answered for it.
            }
        }
        var body = new Readiness(ready ? "ready" : "not ready", store.Name, reachable, publisher.Name, busProblem, outbox, redis.State);
        return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
