using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace VideoCallbacks.Simulator;

public static class SimulatorEndpointExtensions
{
    /// <summary>
    /// Maps the fake providers under <c>{prefix}/kie</c>, <c>{prefix}/apiframe</c>, <c>{prefix}/nanogpt</c>, the CDN
    /// serving their result videos under <c>{prefix}/cdn</c> (see <see cref="SimulatorOptions.CdnBaseUrl"/>) and the
    /// control endpoints under <c>{prefix}/_sim</c>.
    /// </summary>
    /// <param name="secureControl">
    /// Protects the control endpoints (they show every callback URL and secret the simulator was handed, and
    /// make it send callbacks); null leaves them open, as a local development tool.
    /// </param>
    public static RouteGroupBuilder MapProviderSimulator(this IEndpointRouteBuilder app, string prefix = "/sandbox",
        Action<RouteGroupBuilder>? secureControl = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<SimulatorState>() is null)
        {
            throw new InvalidOperationException("Call services.AddProviderSimulator() before MapProviderSimulator().");
        }

        // The simulator does its own provider-style auth and must not inherit the host's
        // fallback policy, rate limits or OpenAPI document.
        // (AllowAnonymous goes on each group, not the root: it would win over any policy on the control group.)
        var root = app.MapGroup(prefix)
            .DisableRateLimiting()
            .ExcludeFromDescription();

        KieSimulator.Map(ProviderGroup(root, KieSimulator.Provider));
        ApiframeSimulator.Map(ProviderGroup(root, ApiframeSimulator.Provider));
        NanoGptSimulator.Map(ProviderGroup(root, NanoGptSimulator.Provider));
        // Recorded like a provider, so tests can count the downloads of each result URL.
        CdnSimulator.Map(ProviderGroup(root, CdnSimulator.Provider));
        var control = root.MapGroup("/_sim");
        if (secureControl is null) control.AllowAnonymous();
        else secureControl(control);
        SimulatorControlEndpoints.Map(control);
        return root;
    }

    private static RouteGroupBuilder ProviderGroup(RouteGroupBuilder root, string provider)
    {
        var group = root.MapGroup("/" + provider).AllowAnonymous();
        group.AddEndpointFilter(async (context, next) =>
        {
            var services = context.HttpContext.RequestServices;
            await SimHttp.RecordAsync(
                context.HttpContext,
                provider,
                services.GetRequiredService<SimulatorState>(),
                services.GetRequiredService<TimeProvider>());
            return await next(context);
        });
        return group;
    }
}
