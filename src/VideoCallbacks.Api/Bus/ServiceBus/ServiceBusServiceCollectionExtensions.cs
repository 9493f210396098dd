using Azure.Core;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
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
    /// Registers the Service Bus transport: <see cref="ServiceBusOptions"/> bound from <paramref name="section"/>
    /// (normally <c>Bus:ServiceBus</c>) and validated at start-up, one <see cref="ServiceBusClient"/> and one
    /// <see cref="ServiceBusSender"/> for the process (the container disposes them on shutdown), and
    /// <see cref="ServiceBusPublisher"/> as the <see cref="IEventPublisher"/>. Call it only when <c>Bus:Transport</c> is <c>ServiceBus</c>.
    /// </summary>
    /// <remarks>
    /// Plain singletons rather than <c>AddAzureClients</c>: one client with settings from our own validated options
    /// needs nothing of its named-client and configuration-binding machinery.
    /// </remarks>
    public static IServiceCollection AddServiceBusPublisher(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);

        services.AddOptions<ServiceBusOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceBusOptions>, ServiceBusOptionsValidator>());

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceBusOptions>>().Value;
            var clientOptions = new ServiceBusClientOptions
            {
                TransportType = options.TransportType,
                Identifier = $"videocallbacks-{Environment.MachineName}-{Environment.ProcessId}",
                RetryOptions = new ServiceBusRetryOptions
                {
                    Mode = ServiceBusRetryMode.Exponential,
                    MaxRetries = options.MaxRetries,
                    Delay = options.RetryDelay,
                    MaxDelay = options.RetryDelay * 4,
                    TryTimeout = options.TryTimeout,
                },
            };
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return new ServiceBusClient(options.ConnectionString, clientOptions);
            }

            // Created only on this path: nothing probes for Azure credentials when a connection string is used.
            // A TokenCredential registered in the container wins (tests, or a chosen managed identity).
            var credential = sp.GetService<TokenCredential>() ?? new DefaultAzureCredential();
            return new ServiceBusClient(options.FullyQualifiedNamespace!.Trim(), credential, clientOptions);
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<ServiceBusClient>()
            .CreateSender(sp.GetRequiredService<IOptions<ServiceBusOptions>>().Value.Topic));
        services.TryAddSingleton<ServiceBusPublisher>();
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<ServiceBusPublisher>());
        return services;
    }
}
