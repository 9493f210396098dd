using Microsoft.Extensions.DependencyInjection.Extensions;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Providers;

public static class ProviderExtensions
{
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ReconcileOptions>(configuration, ReconcileOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SelfAddress>();
        services.AddSingleton<ProviderEndpoints>();
        services.AddSingleton<ProviderRegistry>();
        services.AddProviderModules();
        return services;
    }

    /// <summary>
    /// Registers one provider module: its options (bound from <paramref name="section"/>, validated at start-up), the
    /// provider itself, and its two HttpClients. Public so a provider can be added without touching the service.
    /// </summary>
    public static IServiceCollection AddProvider<TProvider, TOptions>(this IServiceCollection services, string name, string section)
        where TProvider : class, IProvider
        where TOptions : ProviderEndpointOptions
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TProvider>();
        services.AddSingleton<IProvider>(sp => sp.GetRequiredService<TProvider>());
        services.AddProviderHttpClients(name);
        return services;
    }

    public static IServiceCollection AddProviderChecks(this IServiceCollection services) =>
        services.AddSingleton<CheckScheduleStore>().AddHostedService<ProviderCheckWorker>();
}
