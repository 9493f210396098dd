using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Bus.ServiceBus;

namespace VideoCallbacks.Tests.ServiceBus;

public sealed class ServiceBusConfigurationTests
{
    private const string SecretKey = "c3VwZXItc2VjcmV0LWtleQ==";

    [Fact]
    public void Sb_endpoint_maps_to_https_on_the_default_port()
    {
        var cs = ServiceBusConnectionString.Parse($"Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={SecretKey}");

        Assert.Equal(new Uri("https://contoso.servicebus.windows.net/"), cs.Endpoint);
        Assert.Equal("send", cs.KeyName);
        Assert.Equal(SecretKey, cs.Key);
        Assert.Null(cs.EntityPath);
    }

    [Theory]
    [InlineData("Endpoint=http://127.0.0.1:5300/;SharedAccessKeyName=k;SharedAccessKey=v", "http://127.0.0.1:5300/")]
    [InlineData("Endpoint=https://localhost:8443;SharedAccessKeyName=k;SharedAccessKey=v", "https://localhost:8443/")]
    [InlineData(" endpoint = sb://ns.servicebus.windows.net ; sharedaccesskeyname=k ; SHAREDACCESSKEY=v ; ", "https://ns.servicebus.windows.net/")]
    public void Http_endpoints_are_used_as_is_and_names_are_case_insensitive(string connectionString, string endpoint)
    {
        Assert.Equal(new Uri(endpoint), ServiceBusConnectionString.Parse(connectionString).Endpoint);
    }

    [Fact]
    public void Entity_path_is_read()
    {
        var cs = ServiceBusConnectionString.Parse("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v;EntityPath=video-extensions");

        Assert.Equal("video-extensions", cs.EntityPath);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("SharedAccessKeyName=k;SharedAccessKey=" + SecretKey, "Endpoint is missing")]
    [InlineData("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=" + SecretKey, "SharedAccessKeyName is missing")]
    [InlineData("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k", "SharedAccessKey is missing")]
    [InlineData("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=", "SharedAccessKey is missing")]
    [InlineData("Endpoint=ftp://ns/;SharedAccessKeyName=k;SharedAccessKey=" + SecretKey, "must use sb://")]
    [InlineData("Endpoint=not a uri;SharedAccessKeyName=k;SharedAccessKey=" + SecretKey, "not an absolute URI")]
    [InlineData("Endpoint=sb://ns/;SharedAccessKeyName=k;keyWithoutName", "Name=Value")]
    [InlineData("Endpoint=sb://ns/;SharedAccessKeyName=k;" + SecretKey + ";" + SecretKey, "a part name appears more than once")]
    [InlineData("Endpoint=sb://ns/;SharedAccessKeyName=k;SharedAccessKey=" + SecretKey + ";SharedAccessKey=" + SecretKey, "more than once")]
    [InlineData("Endpoint=sb://ns/;SharedAccessSignature=SharedAccessSignature sr=x&sig=" + SecretKey, "not supported")]
    public void Malformed_strings_are_rejected_without_quoting_the_key(string connectionString, string reason)
    {
        var ex = Assert.Throws<FormatException>(() => ServiceBusConnectionString.Parse(connectionString));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..12], ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_hides_the_key()
    {
        var cs = ServiceBusConnectionString.Parse($"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={SecretKey}");

        Assert.DoesNotContain(SecretKey, cs.ToString(), StringComparison.Ordinal);
        Assert.Contains("SharedAccessKey=***", cs.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_match_the_design()
    {
        var options = new ServiceBusOptions();

        Assert.Equal("video-extensions", options.Topic);
        Assert.Equal(256 * 1024, options.MaxBatchBytes);
        Assert.Equal(256 * 1024, options.MaxMessageBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), options.SendTimeout);
    }

    [Fact]
    public void Bad_connection_string_is_reported_under_its_key_without_the_key_value()
    {
        var errors = ServiceBusOptions.Validate(new ServiceBusOptions { ConnectionString = $"Endpoint=ftp://x/;SharedAccessKeyName=k;SharedAccessKey={SecretKey}" });

        var error = Assert.Single(errors);
        Assert.StartsWith("Bus:ServiceBus:ConnectionString is not a valid connection string: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Neither_connection_string_nor_namespace_is_an_error()
    {
        var error = Assert.Single(ServiceBusOptions.Validate(new ServiceBusOptions()));

        Assert.Contains("Bus:ServiceBus:ConnectionString or Bus:ServiceBus:FullyQualifiedNamespace is required", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Namespace_alone_is_valid()
    {
        Assert.Empty(ServiceBusOptions.Validate(new ServiceBusOptions { FullyQualifiedNamespace = "contoso.servicebus.windows.net" }));
    }

    [Fact]
    public void Every_bad_value_names_its_key()
    {
        var errors = ServiceBusOptions.Validate(new ServiceBusOptions
        {
            FullyQualifiedNamespace = "contoso.servicebus.windows.net",
            Topic = "bad topic!",
            MaxBatchBytes = 10,
            MaxMessageBytes = 0,
            SendTimeout = TimeSpan.Zero,
            MaxBatchMessages = 0,
            MaxConcurrentSends = 0,
        });

        foreach (var key in new[] { "Topic", "MaxBatchBytes", "MaxMessageBytes", "SendTimeout", "MaxBatchMessages", "MaxConcurrentSends" })
        {
            Assert.Contains(errors, e => e.StartsWith($"Bus:ServiceBus:{key} ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Entity_path_that_differs_from_the_topic_is_an_error()
    {
        var errors = ServiceBusOptions.Validate(new ServiceBusOptions
        {
            ConnectionString = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v;EntityPath=other",
        });

        Assert.Contains(errors, e => e.Contains("differs from EntityPath 'other'", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_configuration_stops_start_up_with_a_message_naming_the_key()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bus:ServiceBus:ConnectionString"] = $"Endpoint=sb://ns/;SharedAccessKey={SecretKey}",
            ["Bus:ServiceBus:MaxBatchBytes"] = "5",
        };

        var ex = Assert.Throws<OptionsValidationException>(() => PublisherHost.Create(settings));

        Assert.Contains("Bus:ServiceBus:ConnectionString is not a valid connection string: SharedAccessKeyName is missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Bus:ServiceBus:MaxBatchBytes", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, ex.Message, StringComparison.Ordinal);
    }
}
