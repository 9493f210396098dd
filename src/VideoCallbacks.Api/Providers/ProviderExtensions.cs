using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Api.Providers.NanoGpt;

namespace VideoCallbacks.Api.Providers;

public static class ProviderExtensions
{
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KieOptions>(configuration, KieOptions.Section);
        services.AddValidatedOptions<ApiframeOptions>(configuration, ApiframeOptions.Section);
        services.AddValidatedOptions<NanoGptOptions>(configuration, NanoGptOptions.Section);
        services.AddValidatedOptions<ReconcileOptions>(configuration, ReconcileOptions.Section);

        services.AddSingleton<SelfAddress>();
        services.AddSingleton<ProviderEndpoints>();
        // Timeouts are per call (ProviderHttp), so the client's own is off.
        services.AddHttpClient<KieClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHttpClient<ApiframeClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHttpClient<NanoGptClient>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<ProviderClients>();
        return services;
    }

    public static IServiceCollection AddProviderChecks(this IServiceCollection services) =>
        services.AddSingleton<CheckScheduleStore>().AddHostedService<ProviderCheckWorker>();
}

/// <summary>
/// Resolves a provider's typed client per use, so long-lived services do not pin one HttpClient
/// (and its handler) forever.
/// </summary>
public sealed class ProviderClients(IServiceProvider services)
{
    public IProviderClient Get(string provider) => provider switch
    {
        ProviderNames.Kie => services.GetRequiredService<KieClient>(),
        ProviderNames.Apiframe => services.GetRequiredService<ApiframeClient>(),
        ProviderNames.NanoGpt => services.GetRequiredService<NanoGptClient>(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown provider"),
    };
}
