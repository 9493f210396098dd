using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Simulator;

namespace VideoCallbacks.Api.Infrastructure;

public sealed class SandboxOptions
{
    public const string Section = "Sandbox";

    /// <summary>Computed by <see cref="SandboxExtensions.IsEnabled"/>: the setting if given, else Development with no provider key.</summary>
    public bool Enabled { get; set; }

    /// <summary>How long the simulated providers take before their first callback.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Sandbox:CallbackDelay must be between {1} and {2}.")]
    public TimeSpan CallbackDelay { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Sandbox:ProgressInterval must be between {1} and {2}.")]
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The sandbox outside Development hands anyone who can reach it fake providers; the service refuses to start
    /// that way unless this deliberately long-named switch is on (e.g. a shared test environment).
    /// </summary>
    public bool UnsafeAllowOutsideDevelopment { get; set; }

    public static string ApiKeyFor(string provider) => $"sim-{provider}-key";
}

/// <summary>
/// The sandbox: the provider simulator served by this process under /sandbox, with every provider
/// pointed at it, so a new user can submit and watch events without any provider account.
/// </summary>
public static class SandboxExtensions
{
    /// <summary>On by default only for a developer who has configured no provider at all.</summary>
    public static bool IsEnabled(IConfiguration configuration, IHostEnvironment environment)
    {
        // Any Providers:<name>:ApiKey, whichever providers are registered.
        var anyProviderKey = configuration.GetSection("Providers").GetChildren().Any(p => !string.IsNullOrEmpty(p["ApiKey"]));
        return configuration.GetValue<bool?>($"{SandboxOptions.Section}:Enabled") ?? (environment.IsDevelopment() && !anyProviderKey);
    }

    public static IServiceCollection AddSandbox(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        // Registered whether on or off: providers and callbacks ask it where to point.
        var enabled = IsEnabled(configuration, environment);
        services.AddValidatedOptions<SandboxOptions>(configuration, SandboxOptions.Section).Configure(o => o.Enabled = enabled);
        if (!enabled) return services;
        // The sandbox hands anyone who can reach it fake providers: outside Development only when deliberately allowed.
        services.AddOptions<SandboxOptions>()
            .Validate(o => environment.IsDevelopment() || o.UnsafeAllowOutsideDevelopment,
                $"Sandbox:Enabled is true in the {environment.EnvironmentName} environment. The sandbox serves fake providers that anyone " +
                "can drive; turn it off (Sandbox:Enabled=false and configure Providers:*:ApiKey), or, for a shared test environment only, " +
                "set Sandbox:UnsafeAllowOutsideDevelopment=true (its control endpoints then need an admin key).");
        services.AddOptions<SimulatorOptions>().Configure<SelfAddress>((o, self) =>
        {
            // Callbacks go only to this service's own callback URLs, whoever submits to the simulator.
            o.CallbackUrlAllowed = url => url.StartsWith(self.PublicBaseUrl + "/v1/callbacks/", StringComparison.OrdinalIgnoreCase);
            // Result URLs point at the simulator's CDN in this process (MapSandbox's prefix), so archiving downloads real bytes.
            o.CdnBaseUrl = () => $"{self.LocalBaseUrl}/sandbox/cdn";
        });
        services.AddProviderSimulator();
        // The simulator's CDN is this process (loopback): the archive may download from it, as it may from nothing private in production.
        services.PostConfigure<Archive.ArchiveOptions>(o => o.AllowPrivateAddresses = true);
        services.AddOptions<SimulatorOptions>().Configure<IOptions<SandboxOptions>, IEnumerable<IProvider>>((o, sandbox, providers) =>
        {
            // Each provider module points the simulator's copy of it at our settings (its key, its signing).
            foreach (var provider in providers) provider.ConfigureSimulator(o);
            o.CallbackDelay = sandbox.Value.CallbackDelay;
            o.ProgressInterval = sandbox.Value.ProgressInterval;
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
            "SANDBOX MODE: the providers ({Providers}) are simulated by this process under {Url}/sandbox. " +
            "No real provider is called. Configure Providers:*:ApiKey (or set Sandbox:Enabled=false) to use real providers.",
            app.Services.GetRequiredService<ProviderRegistry>().NamesText, app.Services.GetRequiredService<SelfAddress>().LocalBaseUrl));
        return app;
    }
}
