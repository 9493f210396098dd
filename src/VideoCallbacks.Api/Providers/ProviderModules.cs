using VideoCallbacks.Api.Providers.Apiframe;
using VideoCallbacks.Api.Providers.Kie;
using VideoCallbacks.Api.Providers.NanoGpt;

namespace VideoCallbacks.Api.Providers;

/// <summary>The registration list: one line per provider module. A new provider is a folder and a line here.</summary>
public static class ProviderModules
{
    public static IServiceCollection AddProviderModules(this IServiceCollection services) => services
        .AddProvider<KieProvider, KieOptions>(KieProvider.Name, KieOptions.Section)
        .AddProvider<ApiframeProvider, ApiframeOptions>(ApiframeProvider.Name, ApiframeOptions.Section)
        .AddProvider<NanoGptProvider, NanoGptOptions>(NanoGptProvider.Name, NanoGptOptions.Section);
}
