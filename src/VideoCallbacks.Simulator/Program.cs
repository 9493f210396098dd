using VideoCallbacks.Simulator;

// Standalone fake providers: `dotnet run --project src/VideoCallbacks.Simulator`, then point the
// service at http://localhost:5100/sandbox/{kie|apiframe|nanogpt}. Settings bind from "Simulator".
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProviderSimulator(options => builder.Configuration.GetSection("Simulator").Bind(options));

var app = builder.Build();
app.MapProviderSimulator();
app.Run();
