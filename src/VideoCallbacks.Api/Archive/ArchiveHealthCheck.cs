using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace VideoCallbacks.Api.Archive;

/// <summary>
/// The video store: degraded (never unready) when it cannot be written, since callbacks are still taken and committed;
/// archives wait and retry until it is back.
/// </summary>
public sealed class ArchiveHealthCheck(IServiceProvider services) : IHealthCheck
{
    public const string Name = "archive";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<IVideoStore>() is not { } store)
        {
            return HealthCheckResult.Healthy(ArchiveStores.None, new Dictionary<string, object> { ["store"] = ArchiveStores.None });
        }
        var data = new Dictionary<string, object> { ["store"] = store.Name };
        return await store.CheckAsync(cancellationToken) is { } problem
            ? HealthCheckResult.Degraded(problem, data: data)
            : HealthCheckResult.Healthy(store.Name, data);
    }
}
