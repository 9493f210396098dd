namespace VideoCallbacks.Tests.Relay;

/// <summary>
/// The service in-process (<see cref="TestApp"/>) publishing to its own local Service Bus broker with the relay
/// tests' short delays (<see cref="RelayKit.UseServiceBus"/>). Disposes the app before the broker.
/// </summary>
public sealed class BusApp : IAsyncDisposable
{
    private BusApp(LocalServiceBus broker, TestApp app) => (Broker, App) = (broker, app);

    public LocalServiceBus Broker { get; }

    public TestApp App { get; }

    /// <summary>The suite's driver for this service.</summary>
    public ServiceApi Api => App.Driver;

    /// <param name="failing">A fault every send meets until <see cref="LocalServiceBus.ClearFaults"/>, armed before the service starts.</param>
    public static async Task<BusApp> StartAsync(Db db, Action<Dictionary<string, string?>>? configure = null, BrokerFault? failing = null)
    {
        var broker = await LocalServiceBus.StartAsync();
        try
        {
            if (failing is { } fault) broker.FailUntilCleared(fault);
            var app = await TestApp.StartAsync(db, settings =>
            {
                settings.UseServiceBus(broker.ConnectionString);
                configure?.Invoke(settings);
            });
            return new BusApp(broker, app);
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
