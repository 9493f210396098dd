using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Extensions;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Api.Providers.NanoGpt;

namespace VideoCallbacks.Api.Providers;

public static class ProviderExtensions
{
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<KieOptions>().Bind(configuration.GetSection(KieOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiframeOptions>().Bind(configuration.GetSection(ApiframeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<NanoGptOptions>().Bind(configuration.GetSection(NanoGptOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ReconcileOptions>().Bind(configuration.GetSection(ReconcileOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.GiveUpAfter > o.After, "Reconcile:GiveUpAfter must be longer than Reconcile:After.").ValidateOnStart();

        var sandboxEnabled = SandboxExtensions.IsEnabled(configuration, environment);
        services.Configure<SandboxOptions>(o => o.Enabled = sandboxEnabled);

        services.AddOptions<CallbackOptions>().Bind(configuration.GetSection(CallbackOptions.Section))
            .Validate(o => sandboxEnabled || !string.IsNullOrWhiteSpace(o.PublicBaseUrl),
                "Callbacks:PublicBaseUrl is required (the externally reachable base URL providers call back), unless the sandbox is enabled.")
            .Validate(o => o.PublicBaseUrl is null || (Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"),
                "Callbacks:PublicBaseUrl must be an absolute http(s) URL.")
            .Validate(o => o.MaxBodyBytes is >= 1024 and <= 16 * 1024 * 1024, "Callbacks:MaxBodyBytes must be between 1 KiB and 16 MiB.")
            .Validate(o => o.MaxBatch is >= 1 and <= 10_000, "Callbacks:MaxBatch must be between 1 and 10000.")
            .ValidateOnStart();

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
        services.AddHostedService<ProviderCheckWorker>();
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
