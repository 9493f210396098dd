using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace VideoCallbacks.Simulator;

public static class SimulatorEndpointExtensions
{
    /// <summary>
    /// Maps the fake providers under <c>{prefix}/kie</c>, <c>{prefix}/apiframe</c>, <c>{prefix}/nanogpt</c>
    /// and the control endpoints under <c>{prefix}/_sim</c>.
    /// </summary>
    public static RouteGroupBuilder MapProviderSimulator(this IEndpointRouteBuilder app, string prefix = "/sandbox")
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<SimulatorState>() is null)
        {
            throw new InvalidOperationException("Call services.AddProviderSimulator() before MapProviderSimulator().");
        }

        // The simulator does its own provider-style auth and must not inherit the host's
        // fallback policy, rate limits or OpenAPI document.
        var root = app.MapGroup(prefix)
            .AllowAnonymous()
            .DisableRateLimiting()
            .ExcludeFromDescription();

        KieSimulator.Map(ProviderGroup(root, KieSimulator.Provider));
        ApiframeSimulator.Map(ProviderGroup(root, ApiframeSimulator.Provider));
        NanoGptSimulator.Map(ProviderGroup(root, NanoGptSimulator.Provider));
        SimulatorControlEndpoints.Map(root.MapGroup("/_sim"));
        return root;
    }

    private static RouteGroupBuilder ProviderGroup(RouteGroupBuilder root, string provider)
    {
        var group = root.MapGroup("/" + provider);
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
