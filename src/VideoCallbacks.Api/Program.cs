using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Extensions;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddRedactingJsonConsole();
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<OutboxSignal>();
builder.Services.AddTelemetry(builder.Configuration);
builder.Services.AddProblemDetailsWithBindingErrors();
builder.Services.AddOpenApi();
builder.Services.AddApiKeyAuthentication(builder.Configuration, builder.Environment);
builder.Services.AddCache(builder.Configuration);
builder.Services.AddRateLimits(builder.Configuration);
builder.Services.AddStorage(builder.Configuration);
builder.Services.AddBus(builder.Configuration);
builder.Services.AddProviders(builder.Configuration, builder.Environment);
builder.Services.AddExtensions();
builder.Services.AddEventFeed(builder.Configuration);
builder.Services.AddCallbacks();
builder.Services.AddProviderChecks();
builder.Services.AddAdmin(builder.Configuration);
builder.Services.AddSandbox(builder.Configuration, builder.Environment);

var app = builder.Build();

app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = Problems.StatusFor });
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapHealth();
app.MapOpenApi();
app.UseSwaggerUI(o => o.SwaggerEndpoint("/openapi/v1.json", "VideoCallbacks v1"));
app.MapExtensions();
app.MapEventFeed();
app.MapCallbacks();
app.MapAdmin();
app.MapSandbox();

app.Run();
