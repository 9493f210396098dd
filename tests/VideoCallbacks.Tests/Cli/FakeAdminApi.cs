using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VideoCallbacks.Tests.Cli;

/// <summary>One HTTP request the fake admin API received.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? ApiKey, string Body);

/// <summary>
/// A real Kestrel server on a random local port that serves the admin endpoints the CLI calls,
/// with canned data, and records every request. Keys: <see cref="AdminKey"/> is accepted,
/// <see cref="ClientKey"/> gets 403, anything else 401.
/// </summary>
public sealed class FakeAdminApi : IAsyncDisposable
{
    public const string AdminKey = "admin-key-s3cret";
    public const string ClientKey = "client-key-s3cret";

    public const string EventsPage1Json =
        """{"items":[{"eventId":"job-1:completed","sequence":41,"jobId":"job-1","provider":"kie","type":"video.extension.completed","status":"failed","attempts":12,"lastError":"401 Unauthorized from bus","createdAt":"2025-01-31T12:00:00Z","publishedAt":null,"nextAttemptAt":null,"extraField":"ignored"},{"eventId":"job-2:progress:40","sequence":42,"jobId":"job-2","provider":"apiframe","type":"video.extension.progress","status":"published","attempts":1,"lastError":null,"createdAt":"2025-01-31T12:00:05Z","publishedAt":"2025-01-31T12:00:06Z","nextAttemptAt":null}],"nextCursor":"page-2"}""";

    public const string EventsPage2Json =
        """{"items":[{"eventId":"job-3:failed","sequence":43,"jobId":"job-3","provider":"nanogpt","type":"video.extension.failed","status":"pending","attempts":3,"lastError":"timeout","createdAt":"2025-01-31T12:01:00Z","publishedAt":null,"nextAttemptAt":"2025-01-31T12:02:00Z"}],"nextCursor":null}""";

    public const string CallbacksJson =
        """{"items":[{"id":7,"provider":"kie","jobId":"job-1","receivedAt":"2025-01-31T12:00:00Z","outcome":"rejected","reason":"bad signature","eventId":null},{"id":8,"provider":"apiframe","jobId":null,"receivedAt":"2025-01-31T12:00:01Z","outcome":"unmatched","reason":"unknown task","eventId":null}],"nextCursor":null}""";

    public const string AuditJson =
        """{"items":[{"id":1,"at":"2025-01-31T13:00:00Z","adminKeyId":"ops-1","action":"events.replay","target":"status=failed","count":3,"details":null}],"nextCursor":null}""";

    public const string JobJson =
        """{"jobId":"job-1","provider":"kie","providerTaskId":"task-9","status":"completed","progress":100,"videoUrls":["https://cdn.example/v1.mp4"],"error":null,"correlationId":"order-123","metadata":{"customer":"acme"},"createdAt":"2025-01-31T11:59:00Z","updatedAt":"2025-01-31T12:00:00Z","events":[{"id":"job-1:submitted","type":"video.extension.submitted","time":"2025-01-31T11:59:00Z"},{"id":"job-1:completed","type":"video.extension.completed","time":"2025-01-31T12:00:00Z"}]}""";

    private readonly WebApplication _app;

    private FakeAdminApi(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>The requests received so far, in order.</summary>
    public IReadOnlyList<RecordedRequest> Snapshot() => [.. Requests];

    public static async Task<FakeAdminApi> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();

        FakeAdminApi? self = null;
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            context.Request.Body.Position = 0;
            var key = context.Request.Headers["X-Api-Key"].ToString();
            self!.Requests.Enqueue(new RecordedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                key.Length == 0 ? null : key,
                body));

            if (key == ClientKey)
            {
                await Results.Problem(statusCode: 403, title: "Forbidden", detail: "This endpoint needs an admin key.")
                    .ExecuteAsync(context);
                return;
            }

            if (key != AdminKey)
            {
                await Results.Problem(statusCode: 401, title: "Unauthorized", detail: "Missing or unknown API key.")
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });

        app.MapGet("/v1/admin/events", (string? cursor) =>
            Json(cursor == "page-2" ? EventsPage2Json : EventsPage1Json));

        app.MapPost("/v1/admin/events/{eventId}/replay", (string eventId, bool? force) => eventId switch
        {
            "missing" => Results.Problem(statusCode: 404, title: "Not Found", detail: "No event 'missing'."),
            "job-2:progress:40" when force != true => Results.Problem(
                statusCode: 409,
                title: "Conflict",
                detail: "Event job-2:progress:40 is already published; replay it with force."),
            _ => Json(force == true
                ? """{"replayed":1,"warning":"event was already published; consumers may see it twice"}"""
                : """{"replayed":1,"warning":null}"""),
        });

        app.MapPost("/v1/admin/events/replay", (BulkBody body) =>
            Json(body.DryRun
                ? """{"replayed":0,"matched":3,"dryRun":true}"""
                : """{"replayed":3,"matched":3,"dryRun":false}"""));

        app.MapGet("/v1/admin/callbacks", () => Json(CallbacksJson));

        app.MapPost("/v1/admin/callbacks/{id:long}/reprocess", (long id) =>
            Json($$"""{"callbackId":{{id}},"outcome":"accepted","eventId":"job-1:completed"}"""));

        app.MapGet("/v1/extensions/{jobId}", (string jobId) => jobId == "job-1"
            ? Json(JobJson)
            : Results.Problem(statusCode: 404, title: "Not Found", detail: $"No job '{jobId}'."));

        app.MapGet("/v1/admin/audit", () => Json(AuditJson));

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new FakeAdminApi(app, address);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static IResult Json(string json) => Results.Content(json, "application/json");

    private sealed record BulkBody(bool DryRun);
}
