using System.Net;
using Microsoft.Extensions.Options;
using VideoCallbacks.Tests.Infrastructure;
using VideoCallbacks.Tests.ServiceBus;

namespace VideoCallbacks.Tests.Relay;

/// <summary>/readyz and start-up checks with the Service Bus transport.</summary>
public sealed class RelayReadinessTests
{
    private const string SecretKey = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWstMDEyMzQ1Njc4OQ==";

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Readiness_reports_the_service_bus_transport_and_ready_when_the_broker_works(Db db)
    {
        await using var broker = await FakeServiceBusServer.StartAsync();
        await using var app = await TestApp.StartAsync(db, s => s.UseServiceBus(broker.ConnectionString));
        using var client = app.Client();
        var jobs = await RelayKit.SubmitJobsAsync(client, kie: 1);
        await RelayKit.WaitForJobsToFinishAsync(client, jobs);
        var committed = await RelayKit.FeedAsync(client);
        await RelayKit.WaitUntilPublishedAsync(app.Admin(), committed.Count);

        using var anonymous = app.Client(apiKey: null);
        var (status, ready) = await RelayKit.ReadyAsync(anonymous);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal("ServiceBus", ready.GetProperty("bus").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ready.GetProperty("busProblem").ValueKind);
        Assert.Equal(db == Db.Postgres ? "Postgres" : "Sqlite", ready.GetProperty("store").GetString());
        Assert.True(ready.GetProperty("storeReachable").GetBoolean());
        Assert.Equal(committed.Count, broker.Messages.Count);
    }

    [Theory]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;" + SecretKey, "SharedAccessKey is missing")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey", "is not of the form Name=Value")]
    [InlineData("Endpoint=ftp://contoso/;SharedAccessKeyName=send;SharedAccessKey=" + SecretKey, "must use sb://, https:// or http://")]
    [InlineData("Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKey=" + SecretKey, "SharedAccessKeyName is missing")]
    [InlineData("SharedAccessKeyName=send;SharedAccessKey=" + SecretKey, "Endpoint is missing")]
    public async Task A_malformed_connection_string_stops_start_up_with_a_message_naming_the_key(string connectionString, string reason)
    {
        using var database = await SharedDatabase.CreateAsync(Db.Sqlite);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["Bus:Transport"] = "ServiceBus";
            s["Bus:ServiceBus:ConnectionString"] = connectionString;
        }, connectionString: database.ConnectionString));

        Assert.Contains("Bus:ServiceBus:ConnectionString is not a valid connection string", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..16], ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_bus_transport_without_a_connection_string_or_namespace_stops_start_up()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Sqlite);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestApp.StartAsync(Db.Sqlite, s => s["Bus:Transport"] = "ServiceBus", connectionString: database.ConnectionString));

        Assert.Contains("Bus:ServiceBus:ConnectionString or Bus:ServiceBus:FullyQualifiedNamespace is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_process_exits_at_start_up_with_a_malformed_connection_string_naming_the_key()
    {
        using var database = await SharedDatabase.CreateAsync(Db.Sqlite);
        await using var process = ApiProcess.Start(database, new Dictionary<string, string>
        {
            ["Bus:Transport"] = "ServiceBus",
            ["Bus:ServiceBus:ConnectionString"] = "Endpoint=ftp://contoso/;SharedAccessKeyName=send;SharedAccessKey=" + SecretKey,
        });

        var exitCode = await process.WaitForExitAsync();

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Bus:ServiceBus:ConnectionString is not a valid connection string", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey[..16], process.Output, StringComparison.Ordinal);
    }
}
