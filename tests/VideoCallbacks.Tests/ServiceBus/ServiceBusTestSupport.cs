using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Bus.ServiceBus;

namespace VideoCallbacks.Tests.ServiceBus;

/// <summary>The publisher as the service wires it: <c>AddServiceBusPublisher</c> over in-memory configuration, the real SDK underneath.</summary>
internal sealed class PublisherHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private PublisherHost(ServiceProvider services) => _services = services;

    public IEventPublisher Publisher => _services.GetRequiredService<IEventPublisher>();

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public static PublisherHost Create(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddServiceBusPublisher(configuration.GetSection(ServiceBusOptions.SectionName));
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        try
        {
            // What the host does at start-up (ValidateOnStart).
            provider.GetRequiredService<IStartupValidator>().Validate();
            return new PublisherHost(provider);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>Connection-string settings for <paramref name="broker"/>, plus any overrides.</summary>
    public static PublisherHost For(LocalServiceBus broker, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bus:ServiceBus:ConnectionString"] = broker.ConnectionString,
            // No SDK retries unless a test asks: each test sees what one attempt comes to.
            ["Bus:ServiceBus:MaxRetries"] = "0",
            // Long, so a slow (loaded) broker answer is not a client timeout; tests of sends never settled pass a short one.
            ["Bus:ServiceBus:TryTimeout"] = "00:00:30",
        };
        configure?.Invoke(settings);
        return Create(settings);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

internal static class TestEvents
{
    /// <summary>A realistic structured-mode CloudEvent for <paramref name="jobId"/>, padded to roughly <paramref name="padding"/> extra bytes.</summary>
    public static OutgoingEvent Create(string jobId, long sequence, string status = "progress", string provider = "kie", string? correlationId = "order-123", int padding = 0, string? traceParent = null)
    {
        var type = "video.extension." + status;
        var eventId = status == "progress" ? $"{jobId}:progress:{sequence}" : $"{jobId}:{status}";
        var cloudEvent = new
        {
            specversion = "1.0",
            id = eventId,
            source = "/providers/" + provider,
            type,
            subject = jobId,
            time = "2025-01-01T12:00:00Z",
            datacontenttype = "application/json",
            sequence,
            data = new
            {
                jobId,
                provider,
                status,
                progress = 40,
                videoUrls = Array.Empty<string>(),
                error = (object?)null,
                correlationId,
                metadata = new Dictionary<string, string> { ["note"] = new string('x', padding), ["quote"] = "he said \"hi\" & <left>" },
            },
        };
        return new OutgoingEvent(sequence, eventId, type, jobId, provider, status, correlationId, JsonSerializer.Serialize(cloudEvent), traceParent);
    }

    /// <summary><paramref name="count"/> events spread round-robin over <paramref name="jobs"/> jobs, in sequence order.</summary>
    public static List<OutgoingEvent> Many(int count, int jobs = 3, int padding = 0) =>
        Enumerable.Range(1, count).Select(i => Create($"job-{i % jobs}", i, padding: padding)).ToList();
}
