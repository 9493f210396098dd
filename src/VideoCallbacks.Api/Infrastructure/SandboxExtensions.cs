using VideoCallbacks.Api.Providers;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>
/// The sandbox: the provider simulator served by this process under /sandbox, with every provider
/// pointed at it, so a new user can submit and watch events without any provider account.
/// </summary>
public static class SandboxExtensions
{
    /// <summary>On by default only for a developer who has configured no provider at all.</summary>
    public static bool IsEnabled(IConfiguration configuration, IHostEnvironment environment)
    {
        var anyProviderKey = new[] { KieOptions.Section, ApiframeOptions.Section, NanoGptOptions.Section }
            .Any(s => !string.IsNullOrEmpty(configuration[$"{s}:ApiKey"]));
        return configuration.GetValue<bool?>($"{SandboxOptions.Section}:Enabled") ?? (environment.IsDevelopment() && !anyProviderKey);
    }

    public static IServiceCollection AddSandbox(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        if (!IsEnabled(configuration, environment)) return services;
        var section = configuration.GetSection(SandboxOptions.Section);
        var unsafeAllowed = section.GetValue<bool>(nameof(SandboxOptions.UnsafeAllowOutsideDevelopment));
        services.AddOptions<SandboxOptions>()
            .Validate(_ => environment.IsDevelopment() || unsafeAllowed,
                $"Sandbox:Enabled is true in the {environment.EnvironmentName} environment. The sandbox serves fake providers that anyone " +
                "can drive; turn it off (Sandbox:Enabled=false and configure Providers:*:ApiKey), or, for a shared test environment only, " +
                "set Sandbox:UnsafeAllowOutsideDevelopment=true (its control endpoints then need an admin key).")
            .ValidateOnStart();
        // Callbacks go only to this service's own callback URLs, whoever submits to the simulator.
        services.AddOptions<SimulatorOptions>().Configure<SelfAddress>((o, self) =>
            o.CallbackUrlAllowed = url => url.StartsWith(self.PublicBaseUrl + "/v1/callbacks/", StringComparison.OrdinalIgnoreCase));
        services.AddProviderSimulator(o =>
        {
            o.KieApiKey = SandboxOptions.ApiKeyFor("kie");
            o.ApiframeApiKey = SandboxOptions.ApiKeyFor("apiframe");
            o.NanoGptApiKey = SandboxOptions.ApiKeyFor("nanogpt");
            // Signed callbacks in the sandbox exactly when the service is configured to demand them.
            o.KieWebhookHmacKey = configuration[$"{KieOptions.Section}:WebhookHmacKey"];
            o.CallbackDelay = section.GetValue("CallbackDelay", TimeSpan.FromSeconds(2));
            o.ProgressInterval = section.GetValue("ProgressInterval", TimeSpan.FromSeconds(1));
        });
        return services;
    }

    public static WebApplication MapSandbox(this WebApplication app)
    {
        if (!IsEnabled(app.Configuration, app.Environment)) return app;
        // Outside Development the control endpoints (every callback URL and secret handed out) need an admin key.
        app.MapProviderSimulator("/sandbox", app.Environment.IsDevelopment()
            ? null
            : control => control.RequireAuthorization(Security.ApiKeyDefaults.AdminPolicy)).ExcludeFromDescription();
        app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogWarning(
            "SANDBOX MODE: Kie.ai, Apiframe and NanoGPT are simulated by this process under {Url}/sandbox. " +
            "No real provider is called. Configure Providers:*:ApiKey (or set Sandbox:Enabled=false) to use real providers.",
            app.Services.GetRequiredService<SelfAddress>().LocalBaseUrl));
        return app;
    }
}
