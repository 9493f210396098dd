using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>
/// Proxies whose <c>X-Forwarded-For</c> is believed. Behind Container Apps' ingress (or any load balancer) every request
/// comes from the proxy's address; naming the proxy's network makes the client's own address the one rate limits and
/// the failed-auth throttle see. Nothing configured: the header is ignored, never trusted blindly.
/// </summary>
public sealed class ForwardedHeadersSettings : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    /// <summary>CIDR ranges, e.g. the Container Apps environment's infrastructure subnet <c>10.0.0.0/23</c>.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>Single proxy addresses, e.g. <c>10.0.0.4</c>.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>How many proxies in a row to unwrap (one ingress in front of the app is the common case).</summary>
    [Range(1, 10, ErrorMessage = "ForwardedHeaders:ForwardLimit must be between 1 and 10.")]
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownNetworks.Length > 0 || KnownProxies.Length > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var n in KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"ForwardedHeaders:KnownNetworks: '{Problems.Shorten(n, 60)}' is not a network in CIDR form such as 10.0.0.0/23.", [nameof(KnownNetworks)]);
        }
        foreach (var p in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"ForwardedHeaders:KnownProxies: '{Problems.Shorten(p, 60)}' is not an IP address.", [nameof(KnownProxies)]);
        }
    }
}

public static class ForwardedHeadersSetup
{
    public static IServiceCollection AddForwardedHeadersFromConfiguration(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ForwardedHeadersSettings>(configuration, ForwardedHeadersSettings.Section);
        services.AddOptions<ForwardedHeadersOptions>().Configure<Microsoft.Extensions.Options.IOptions<ForwardedHeadersSettings>>((o, settings) =>
        {
            var s = settings.Value;
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = s.ForwardLimit;
            // The framework trusts loopback by default; only what is configured is trusted here.
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            foreach (var n in s.KnownNetworks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(n));
            foreach (var p in s.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(p));
        });
        return services;
    }

    /// <summary>The framework's forwarded-headers middleware, only when proxies are configured.</summary>
    public static IApplicationBuilder UseForwardedHeadersFromConfiguration(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersSettings>>().Value;
        return settings.Enabled ? app.UseForwardedHeaders() : app;
    }
}
