using Microsoft.AspNetCore.Http.HttpResults;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Infrastructure;

public sealed record Readiness(string Status, string Store, bool StoreReachable, string Bus, string? BusProblem);

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "up" })).WithTags("Health").AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", Ready).WithTags("Health").AllowAnonymous();
        return app;
    }

    private static async Task<Results<Ok<Readiness>, JsonHttpResult<Readiness>>> Ready(IStore store, IEventPublisher publisher, BusReadiness bus, CancellationToken ct)
    {
        var reachable = await store.PingAsync(ct);
        var busProblem = bus.Problem;
        var ready = reachable && busProblem is null;
        var body = new Readiness(ready ? "ready" : "not ready", store.Name, reachable, publisher.Name, busProblem);
        return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
