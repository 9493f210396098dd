using System.Net.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace VideoCallbacks.Simulator;

public static class SimulatorServiceCollectionExtensions
{
    /// <summary>Registers the simulator's state, callback sender (named client <c>simulator-callbacks</c>) and background worker.</summary>
    public static IServiceCollection AddProviderSimulator(this IServiceCollection services, Action<SimulatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<SimulatorOptions>()
            .Configure(options => configure?.Invoke(options))
            .Validate(
                options => options.CallbackDelay >= TimeSpan.Zero && options.ProgressInterval >= TimeSpan.Zero,
                "Simulator CallbackDelay and ProgressInterval must not be negative.")
            .Validate(
                options => !string.IsNullOrEmpty(options.KieApiKey)
                    && !string.IsNullOrEmpty(options.ApiframeApiKey)
                    && !string.IsNullOrEmpty(options.NanoGptApiKey),
                "Simulator API keys must not be empty.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SimulatorState>();
        services.TryAddSingleton<CallbackSender>();
        services.TryAddSingleton<KieSimulator>();
        services.TryAddSingleton<ApiframeSimulator>();
        services.TryAddSingleton<NanoGptSimulator>();
        services.TryAddSingleton<CdnSimulator>();
        services.TryAddSingleton<SimulatorBackground>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SimulatorBackground>(
            provider => provider.GetRequiredService<SimulatorBackground>()));

        // Providers give a callback 15 s to answer.
        services.AddHttpClient(CallbackSender.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler
            {
                // Sandbox callbacks go to the developer's own service, often on https://localhost with a
                // dev certificate; accept that on loopback only, validate everything else normally.
                ServerCertificateCustomValidationCallback = (request, _, _, errors) =>
                    errors == SslPolicyErrors.None || request.RequestUri is { IsLoopback: true },
            });
        return services;
    }
}
