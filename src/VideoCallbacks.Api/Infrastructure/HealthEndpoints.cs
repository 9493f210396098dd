using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using VideoCallbacks.Api.Caching;

namespace VideoCallbacks.Api.Infrastructure;

/// <param name="Outbox">Backlog at a glance (null when the store is unreachable); informational, never a reason to be unready.</param>
/// <param name="Redis">off (not configured), up, or degraded (unreachable: slower, never unready, since the database decides everything).</param>
public sealed record Readiness(string Status, string Store, bool StoreReachable, string Bus, string? BusProblem, OutboxReadiness? Outbox,
    string Redis = RedisStates.Off)
{
    /// <summary>The video store (<c>None</c>, <c>FileSystem</c>, <c>AzureBlob</c>) and, when it cannot be written, why: degraded, never unready.</summary>
    public ArchiveReadiness? Archive { get; init; }
}

public sealed record ArchiveReadiness(string Store, bool Writable, string? Problem);

public sealed record OutboxReadiness(long Pending, long Failed, double? OldestPendingSeconds);

/// <summary>
/// Liveness and readiness on ASP.NET Core health checks: one check per dependency, tagged "ready"; <c>/healthz</c>
/// runs none (the process answers), <c>/readyz</c> runs the tagged ones and writes the contract's JSON body.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>(StoreHealthCheck.Name, tags: [ReadyTag])
            .AddCheck<BusHealthCheck>(BusHealthCheck.Name, tags: [ReadyTag])
            .AddCheck<RedisHealthCheck>(RedisHealthCheck.Name, tags: [ReadyTag])
            .AddCheck<OutboxHealthCheck>(OutboxHealthCheck.Name, tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = (http, _) => http.Response.WriteAsJsonAsync(new { status = "up" }),
        }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag),
            ResponseWriter = WriteReadinessAsync,
            // Degraded (Redis away) is still ready: the database decides everything.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous();
        return app;
    }

    /// <summary>The contract's body (black-box checks read it), from the checks' data.</summary>
    private static Task WriteReadinessAsync(HttpContext http, HealthReport report)
    {
        var store = report.Entries[StoreHealthCheck.Name];
        var bus = report.Entries[BusHealthCheck.Name];
        var redis = report.Entries[RedisHealthCheck.Name];
        var outbox = report.Entries[OutboxHealthCheck.Name];
        var body = new Readiness(
            report.Status == HealthStatus.Unhealthy ? "not ready" : "ready",
            (string)store.Data["name"],
            store.Status == HealthStatus.Healthy,
            (string)bus.Data["transport"],
            bus.Status == HealthStatus.Healthy ? null : bus.Description,
            outbox.Data.TryGetValue("outbox", out var o) ? (OutboxReadiness)o : null,
            (string)redis.Data["state"])
        {
            Archive = report.Entries.TryGetValue("archive", out var archive)
                ? new ArchiveReadiness((string)archive.Data["store"], archive.Status == HealthStatus.Healthy, archive.Status == HealthStatus.Healthy ? null : archive.Description)
                : null,
        };
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsJsonAsync(body, Json);
    }
}
