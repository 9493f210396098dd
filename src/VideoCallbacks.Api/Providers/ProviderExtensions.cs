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
        services.AddProviderHttpClients();
        services.AddSingleton<KieClient>();
        services.AddSingleton<ApiframeClient>();
        services.AddSingleton<NanoGptClient>();
        services.AddSingleton<ProviderClients>();
        return services;
    }

    public static IServiceCollection AddProviderChecks(this IServiceCollection services) =>
        services.AddSingleton<CheckScheduleStore>().AddHostedService<ProviderCheckWorker>();
}

/// <summary>The provider clients by name (each asks IHttpClientFactory per call, so none pins a handler).</summary>
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
