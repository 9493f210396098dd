using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Archive;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Dashboard;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Api.Submissions;

// The image's HEALTHCHECK: `dotnet VideoCallbacks.Api.dll healthcheck` probes /healthz and exits, no host built.
if (HealthCheckCommand.IsRequested(args)) Environment.Exit(HealthCheckCommand.Run(args));

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddRedactingConsole(builder.Environment);
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddGracefulShutdown(builder.Configuration);
builder.Services.AddSingleton<OutboxSignal>();
builder.Services.AddTelemetry(builder.Configuration);
builder.Services.AddHealth();
builder.Services.AddProblemDetailsWithBindingErrors();
builder.Services.AddApiDocs(builder.Configuration);
// The store first: its migrations run before anything else that starts with the host reads it (the key ring).
builder.Services.AddStorage(builder.Configuration);
builder.Services.AddSharedDataProtection(builder.Configuration);
builder.Services.AddForwardedHeadersFromConfiguration(builder.Configuration);
builder.Services.AddApiKeyAuthentication(builder.Configuration, builder.Environment);
builder.Services.AddCache(builder.Configuration);
builder.Services.AddRateLimits(builder.Configuration);
builder.Services.AddBus(builder.Configuration);
builder.Services.AddProviders(builder.Configuration);
builder.Services.AddSubmissions(builder.Configuration);
builder.Services.AddEventFeed(builder.Configuration);
builder.Services.AddCallbacks(builder.Configuration);
builder.Services.AddProviderChecks();
builder.Services.AddArchive(builder.Configuration);
builder.Services.AddAdmin(builder.Configuration);
builder.Services.AddDashboard(builder.Configuration);
builder.Services.AddSandbox(builder.Configuration, builder.Environment);

var app = builder.Build();

app.UseForwardedHeadersFromConfiguration();
app.UseSecurityHeaders();
app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = Problems.StatusFor, SuppressDiagnosticsCallback = Problems.IsNotOurFault });
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapHealth();
app.MapApiDocs();
app.MapSubmissions();
app.MapEventFeed();
app.MapCallbacks();
app.MapArchive();
app.MapAdmin();
app.MapDashboard();
app.MapSandbox();

app.Run();
