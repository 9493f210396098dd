using System.ComponentModel.DataAnnotations;
using VideoCallbacks.Api.Bus.ServiceBus;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Bus;

public sealed class BusOptions
{
    public const string Section = "Bus";

    [AllowedValues("Embedded", "ServiceBus", ErrorMessage = "Bus:Transport must be 'Embedded' or 'ServiceBus'.")]
    public string Transport { get; set; } = "Embedded";

    /// <summary>With the embedded feed as the bus, an event is published the moment it is committed.</summary>
    public bool PublishedOnCommit => Transport == "Embedded";
}

/// <summary>The embedded feed is the bus: nothing to send, so a (re)published event is simply done.</summary>
public sealed class EmbeddedPublisher : IEventPublisher
{
    public string Name => "Embedded";

    public Task<IReadOnlyList<PublishResult>> PublishAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PublishResult>>(events.Select(e => PublishResult.Ok(e.EventId)).ToList());

    public Task WarmUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>What readiness reports about the bus: null when it is configured and not known to be failing.</summary>
public sealed class BusReadiness
{
    private volatile string? _problem;

    public string? Problem => _problem;

    public void Report(string? problem) => _problem = problem;
}

public static class BusExtensions
{
    public static IServiceCollection AddBus(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<BusOptions>(configuration, BusOptions.Section);
        services.AddSingleton<BusReadiness>();
        services.AddSingleton<OutboxStore>();
        if (configuration[$"{BusOptions.Section}:Transport"] == "ServiceBus")
        {
            services.AddServiceBusPublisher(configuration.GetSection($"{BusOptions.Section}:ServiceBus"));
        }
        else
        {
            services.AddSingleton<IEventPublisher, EmbeddedPublisher>();
        }
        services.AddValidatedOptions<RelayOptions>(configuration, RelayOptions.Section);
        services.AddHostedService<OutboxRelay>();
        return services;
    }
}
