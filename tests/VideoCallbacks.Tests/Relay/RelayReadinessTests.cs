namespace VideoCallbacks.Tests.Relay;

/// <summary>/readyz and start-up checks with the Service Bus transport.</summary>
public sealed class RelayReadinessTests
{
    private const string SecretKey = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWstMDEyMzQ1Njc4OQ==";

    [Theory, BothDatabases]
    public async Task Readiness_reports_the_service_bus_transport_and_ready_when_the_broker_works(Db db)
    {
        await using var bus = await BusApp.StartAsync(db);
        var (jobs, committed) = await RelayKit.CompleteJobsAsync(bus.Api, kie: 1);
        await bus.Api.WaitUntilPublishedAsync(committed.Count);

        var anonymous = bus.App.Driver.As(null);
        var (status, ready) = await anonymous.ReadyAsync();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal("ServiceBus", ready.GetProperty("bus").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ready.GetProperty("busProblem").ValueKind);
        Assert.Equal(db == Db.Postgres ? "Postgres" : "Sqlite", ready.GetProperty("store").GetString());
        Assert.True(ready.GetProperty("storeReachable").GetBoolean());
        Assert.Equal(committed.Count, bus.Broker.Messages.Count);
    }

    // Start-up is checked on the real process: in-process, WebApplicationFactory can hide a failed start
    // behind an ObjectDisposedException of its own.
    [Theory]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send", "SharedAccessKey is missing")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + SecretKey + ";EntityPath=other", "EntityPath 'other' differs")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKey=" + SecretKey, "SharedAccessKeyName is missing")]
    [InlineData("SharedAccessKeyName=send;SharedAccessKey=" + SecretKey, "Endpoint is missing")]
    public async Task A_malformed_connection_string_stops_start_up_with_a_message_naming_the_key(string connectionString, string reason)
    {
        var output = await StartAndExpectRefusalAsync(new Dictionary<string, string>
        {
            ["Bus:Transport"] = "ServiceBus",
            ["Bus:ServiceBus:ConnectionString"] = connectionString,
        });

        // The unhandled start-up exception, as plain text on stderr.
        var line = Assert.Single(output.Split('\n'), l => l.Contains("Unhandled exception", StringComparison.Ordinal));
        Assert.Contains("Bus:ServiceBus:ConnectionString is not a valid connection string: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..16], output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_bus_transport_without_a_connection_string_or_namespace_stops_start_up()
    {
        var output = await StartAndExpectRefusalAsync(new Dictionary<string, string> { ["Bus:Transport"] = "ServiceBus" });

        Assert.Contains("Bus:ServiceBus:ConnectionString or Bus:ServiceBus:FullyQualifiedNamespace is required", output, StringComparison.Ordinal);
    }

    /// <summary>Starts the service process, expects it to exit with an error, and answers what it wrote.</summary>
    private static async Task<string> StartAndExpectRefusalAsync(Dictionary<string, string> settings)
    {
        using var database = await SharedDatabase.CreateAsync(Db.Sqlite);
        await using var process = ServiceProcess.Start(database, settings);

        var exitCode = await process.WaitForExitAsync();

        Assert.NotEqual(0, exitCode);
        return process.Output;
    }
}
