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
