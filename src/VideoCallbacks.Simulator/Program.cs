using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using VideoCallbacks.Simulator;

// Standalone fake providers: `dotnet run --project src/VideoCallbacks.Simulator`, then point the
// service at http://localhost:5100/sandbox/{kie|apiframe|nanogpt}. Settings bind from "Simulator".
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProviderSimulator(options => builder.Configuration.GetSection("Simulator").Bind(options));
// Result URLs point at this process's own CDN; a function, as the address is known only once it listens.
builder.Services.AddOptions<SimulatorOptions>().Configure<IServer>((options, server) =>
    options.CdnBaseUrl = () => OwnAddress(server) + "/sandbox/cdn");

var app = builder.Build();
app.MapProviderSimulator();
app.Run();

static string OwnAddress(IServer server)
{
    var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
    var address = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses?.FirstOrDefault()
        ?? throw new InvalidOperationException("The simulator is not listening yet, so its own address is unknown.");
    // Wildcard bindings are not addresses one can download from.
    return address.Replace("://+", "://localhost", StringComparison.Ordinal)
        .Replace("://*", "://localhost", StringComparison.Ordinal)
        .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
        .Replace("://[::]", "://localhost", StringComparison.Ordinal)
        .TrimEnd('/');
}
