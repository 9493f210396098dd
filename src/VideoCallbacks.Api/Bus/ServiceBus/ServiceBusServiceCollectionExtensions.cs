using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Bus.ServiceBus;

/// <summary>Checks <see cref="ServiceBusOptions"/> at start-up; every message names its configuration key.</summary>
public sealed class ServiceBusOptionsValidator : IValidateOptions<ServiceBusOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceBusOptions options)
    {
        var errors = ServiceBusOptions.Validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class ServiceBusServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Service Bus REST transport: <see cref="ServiceBusOptions"/> bound from <paramref name="section"/>
    /// (normally <c>Bus:ServiceBus</c>) and validated at start-up, the named <see cref="HttpClient"/> "servicebus",
    /// the token provider (SAS from the connection string, else Entra ID), <see cref="ServiceBusRestPublisher"/>,
    /// and <see cref="IEventPublisher"/> pointing at it. Call it only when <c>Bus:Transport</c> is <c>ServiceBus</c>.
    /// </summary>
    /// <param name="credential">Entra ID credential when there is no connection string; default <see cref="DefaultAzureCredential"/>.</param>
    public static IServiceCollection AddServiceBusPublisher(this IServiceCollection services, IConfiguration section, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);

        services.AddOptions<ServiceBusOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceBusOptions>, ServiceBusOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // No client-level timeout: SendTimeout is applied per request so a timeout is told apart from a cancelled call.
        services.AddHttpClient(ServiceBusRestPublisher.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);

        services.TryAddSingleton<IServiceBusTokenProvider>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceBusOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                var connection = ServiceBusConnectionString.Parse(options.ConnectionString);
                return new SasTokenProvider(connection, ServiceBusRestPublisher.ResolveEntityUri(options), time, options.SasTokenLifetime, options.TokenRenewalMargin);
            }

            // Created only on this path: nothing probes for Azure credentials when a connection string is used.
            return new EntraIdTokenProvider(credential ?? new DefaultAzureCredential(), time, options.TokenRenewalMargin);
        });
        services.TryAddSingleton<ServiceBusRestPublisher>();
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<ServiceBusRestPublisher>());
        return services;
    }
}
