using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Bus.ServiceBus;

namespace VideoCallbacks.Tests.ServiceBus;

public sealed class ServiceBusConfigurationTests
{
    private const string SecretKey = "c3VwZXItc2VjcmV0LWtleQ==";

    [Fact]
    public void Defaults_match_the_design()
    {
        var options = new ServiceBusOptions();

        Assert.Equal("video-extensions", options.Topic);
        Assert.Equal(ServiceBusTransportType.AmqpTcp, options.TransportType);
        Assert.Equal(1, options.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(10), options.TryTimeout);
        Assert.Empty(ServiceBusOptions.Validate(new ServiceBusOptions { ConnectionString = $"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={SecretKey}" }));
    }

    [Theory]
    [InlineData("SharedAccessKeyName=k;SharedAccessKey=" + SecretKey, "Endpoint is missing")]
    [InlineData("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=" + SecretKey, "SharedAccessKeyName is missing")]
    [InlineData("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k", "SharedAccessKey is missing")]
    [InlineData("Endpoint=sb://ns/;SharedAccessKeyName=k;SharedAccessKey=" + SecretKey + ";EntityPath=other", "EntityPath 'other' differs")]
    public void A_bad_connection_string_is_reported_under_its_key_without_the_key_value(string connectionString, string reason)
    {
        var error = Assert.Single(ServiceBusOptions.Validate(new ServiceBusOptions { ConnectionString = connectionString }));

        Assert.StartsWith("Bus:ServiceBus:ConnectionString is not a valid connection string: ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..12], error, StringComparison.Ordinal);
    }

    [Fact]
    public void Neither_connection_string_nor_namespace_is_an_error()
    {
        var error = Assert.Single(ServiceBusOptions.Validate(new ServiceBusOptions()));

        Assert.Contains("Bus:ServiceBus:ConnectionString or Bus:ServiceBus:FullyQualifiedNamespace is required", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_value_names_its_key()
    {
        var errors = ServiceBusOptions.Validate(new ServiceBusOptions
        {
            FullyQualifiedNamespace = "not a host/",
            Topic = "bad topic",
            MaxRetries = -1,
            RetryDelay = TimeSpan.FromHours(1),
            TryTimeout = TimeSpan.Zero,
            TransportType = (ServiceBusTransportType)42,
        });

        foreach (var key in new[] { "FullyQualifiedNamespace", "Topic", "MaxRetries", "RetryDelay", "TryTimeout", "TransportType" })
        {
            Assert.Contains(errors, e => e.StartsWith($"Bus:ServiceBus:{key} ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Bad_configuration_stops_start_up_with_a_message_naming_the_key()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bus:ServiceBus:ConnectionString"] = $"Endpoint=sb://ns/;SharedAccessKey={SecretKey}",
            ["Bus:ServiceBus:MaxRetries"] = "50",
        };

        var ex = Assert.Throws<OptionsValidationException>(() => PublisherHost.Create(settings));

        Assert.Contains("Bus:ServiceBus:ConnectionString is not a valid connection string: SharedAccessKeyName is missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Bus:ServiceBus:MaxRetries", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_namespace_without_a_connection_string_builds_an_entra_id_client_over_the_chosen_transport()
    {
        // Entra ID itself needs the real service (the local broker refuses JWTs and has no TLS): this checks the wiring.
        await using var host = PublisherHost.Create(new Dictionary<string, string?>
        {
            ["Bus:ServiceBus:FullyQualifiedNamespace"] = "contoso.servicebus.windows.net",
            ["Bus:ServiceBus:TransportType"] = "AmqpWebSockets",
        });

        var client = host.Get<ServiceBusClient>();
        Assert.Equal("contoso.servicebus.windows.net", client.FullyQualifiedNamespace);
        Assert.Equal(ServiceBusTransportType.AmqpWebSockets, client.TransportType);
        Assert.Equal("video-extensions", host.Get<ServiceBusSender>().EntityPath);
    }
}
