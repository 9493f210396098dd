using Microsoft.Extensions.Diagnostics.HealthChecks;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Infrastructure;

// The readiness checks, one per dependency (HealthEndpoints registers them, tagged "ready"). Each reuses the
// service's own connections, so a check measures what the requests will meet.

/// <summary>The store answers a query.</summary>
public sealed class StoreHealthCheck(SqlDatabase store) : IHealthCheck
{
    public const string Name = "store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["name"] = store.Name };
        return await store.PingAsync(cancellationToken)
            ? HealthCheckResult.Healthy($"{store.Name} reachable", data)
            : HealthCheckResult.Unhealthy($"{store.Name} unreachable", data: data);
    }
}

/// <summary>The bus is configured and not refusing us (entity missing, unauthorized).</summary>
public sealed class BusHealthCheck(IEventPublisher publisher, BusReadiness bus) : IHealthCheck
{
    public const string Name = "bus";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["transport"] = publisher.Name };
        return Task.FromResult(bus.Problem is { } problem
            ? HealthCheckResult.Unhealthy(problem, data: data)
            : HealthCheckResult.Healthy(publisher.Name, data));
    }
}

/// <summary>Redis when configured: degraded (never unhealthy) when it is away, since the database decides everything.</summary>
public sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public const string Name = "redis";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["state"] = redis.State };
        return Task.FromResult(redis.State == RedisStates.Degraded
            ? HealthCheckResult.Degraded("Redis unreachable: running from the database", data: data)
            : HealthCheckResult.Healthy(redis.State, data));
    }
}

/// <summary>The outbox backlog: informational, always healthy (a backlog is the relay's to work off, not a reason to stop traffic).</summary>
public sealed class OutboxHealthCheck(OutboxStore outbox, TimeProvider time) : IHealthCheck
{
    public const string Name = "outbox";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var now = time.GetUtcNow();
            var stats = await outbox.GetOutboxStatsAsync(now, cancellationToken);
            var backlog = new OutboxReadiness(stats.Pending, stats.Failed,
                stats.OldestPendingAt is { } oldest ? Math.Round((now - oldest).TotalSeconds, 1) : null);
            return HealthCheckResult.Healthy("outbox backlog", new Dictionary<string, object> { ["outbox"] = backlog });
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // The store check answers for reachability; the backlog is simply unknown.
            return HealthCheckResult.Healthy("outbox backlog unknown (store unreachable)");
        }
    }
}
