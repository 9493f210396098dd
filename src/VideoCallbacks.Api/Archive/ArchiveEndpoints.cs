using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Archive;

/// <summary>Whether completions wait for the archive stage (read by ingest, which must not depend on the stores).</summary>
public sealed record ArchiveMode(bool KeepsVideos)
{
    public static readonly ArchiveMode Off = new(false);
}

/// <summary>Keeping the videos: the archive stage, the stores, the durable URLs and the operators' retry.</summary>
public static class ArchiveEndpoints
{
    public static IServiceCollection AddArchive(this IServiceCollection services, IConfiguration configuration)
    {
        var singleProcess = configuration[$"{StorageOptions.Section}:Provider"] is null or "Sqlite";
        services.AddValidatedOptions<ArchiveOptions>(configuration, ArchiveOptions.Section)
            .Configure(o => o.SingleProcessStore = singleProcess);
        services.AddSingleton(sp => new ArchiveMode(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value.KeepsVideos));
        services.AddSingleton<ArchiveStore>();
        services.AddSingleton<DurableUrls>();
        services.AddSingleton<ArchiveBandwidth>();
        services.AddSingleton<VideoDownloader>();
        services.AddHttpClient(VideoDownloader.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => VideoDownloader.CreateHandler(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value.AllowPrivateAddresses))
            // Downloads are streamed and bounded by Archive:DownloadTimeout; the default resilience would buffer and time out.
            .RemoveAllLoggers();
        // Which store (and whether a worker runs) is decided when services are registered, by the same rule the options use.
        var store = ArchiveOptions.StoreFor(configuration[$"{ArchiveOptions.Section}:Store"], singleProcess);
        if (store == ArchiveStores.FileSystem)
        {
            services.AddSingleton<IVideoStore>(sp => new FileSystemVideoStore(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value.EffectivePath));
        }
        else if (store == ArchiveStores.AzureBlob)
        {
            services.AddSingleton<IVideoStore>(sp => new AzureBlobVideoStore(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value.AzureBlob,
                sp.GetRequiredService<TimeProvider>(), sp.GetService<Azure.Core.TokenCredential>()));
        }
        if (store is ArchiveStores.FileSystem or ArchiveStores.AzureBlob) services.AddHostedService<ArchiveWorker>();
        else services.AddHostedService<ArchiveOffNotice>();
        services.AddHealthChecks().AddCheck<ArchiveHealthCheck>(ArchiveHealthCheck.Name, tags: [HealthEndpoints.ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapArchive(this IEndpointRouteBuilder app)
    {
        var videos = app.MapGroup("/v1/extensions").WithTags("Extensions")
            .RequireAuthorization(ApiKeyDefaults.ClientPolicy)
            .RequireRateLimiting(RateLimits.ClientPolicy);
        videos.MapGet("/{jobId}/videos/{index:int}", GetVideo)
            .WithSummary("A stored result video: the bytes (Range supported) or a redirect to a short-lived read-only link.").ProducesProblem(404);

        var admin = app.MapGroup("/v1/admin").WithTags("Admin")
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .RequireRateLimiting(RateLimits.ClientPolicy);
        admin.MapGet("/archives", ListArchives).WithSummary("Jobs by archive status (failed by default), newest first, with cursor paging.");
        admin.MapPost("/extensions/{jobId}/archive", RetryArchive)
            .WithSummary("Try again to copy a completed job's videos whose archive failed; on success video.extension.archived is published.")
            .ProducesProblem(404).ProducesProblem(409);
        return app;
    }

    internal static async Task<IResult> GetVideo(string jobId, int index, HttpContext http, JobReader jobs, IServiceProvider services, CancellationToken ct)
    {
        var job = jobId.Length <= 64 ? await jobs.GetJobAsync(jobId, ct) : null;
        // Another client's job does not exist for this caller (as for the job itself).
        if (job is null || http.User.VisibleClient() is { } client && job.Client != client)
        {
            return Problems.NotFound("No such job.", $"There is no job '{jobId}'.");
        }
        var video = job.Videos.FirstOrDefault(v => v.Index == index);
        if (video?.Sha256 is null || job.Archive?.Status != ArchiveStatuses.Archived || services.GetService<IVideoStore>() is not { } store)
        {
            return Problems.NotFound("No such video.", $"Job '{jobId}' has no stored video {index}" +
                (job.Archive?.Status is { } status ? $" (archive: {status})." : "."));
        }
        return await store.ServeAsync(VideoNames.For(job.JobId, index, video.ContentType ?? "video/mp4"), video, ct);
    }

    private static async Task<Results<Ok<Page<AdminArchive>>, ValidationProblem>> ListArchives(HttpRequest http, ArchiveStore store, CancellationToken ct)
    {
        var q = new QueryReader(http.Query);
        var status = q.OneOf("status", ArchiveStatuses.Failed, ArchiveStatuses.Pending, ArchiveStatuses.Archived, ArchiveStatuses.Expired) ?? ArchiveStatuses.Failed;
        var limit = q.Int("limit", 100, 1, AdminEndpoints.MaxPage);
        var cursorText = http.Query["cursor"].FirstOrDefault();
        (long, string)? cursor = null;
        if (cursorText is not null)
        {
            var parts = cursorText.Split(':', 2);
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var at)) cursor = (at, parts[1]);
            else q.Errors["cursor"] = ["cursor must be the nextCursor of a previous page."];
        }
        if (q.Errors.Count > 0) return TypedResults.ValidationProblem(q.Errors, title: "The query is invalid.");
        var rows = await store.ListAsync(status, cursor, limit, ct);
        var items = rows.Select(r => new AdminArchive(r.JobId, r.Provider, r.Client, r.Status,
            r.ErrorCode is null ? (r.LastError is null ? null : new JobError(ArchiveErrors.Transient, r.LastError)) : new JobError(r.ErrorCode, r.ErrorMessage ?? ""),
            (int)r.Attempts, JsonSerializer.Deserialize<List<JobVideo>>(r.Videos) ?? [], Sql.FromMs(r.UpdatedAt)!.Value)).ToList();
        return TypedResults.Ok(new Page<AdminArchive>(items,
            rows.Count == limit ? $"{rows[^1].UpdatedAt.ToString(CultureInfo.InvariantCulture)}:{rows[^1].JobId}" : null));
    }

    private static async Task<Results<Accepted<ArchiveRetryResult>, ProblemHttpResult>> RetryArchive(
        string jobId, HttpContext http, ArchiveStore store, JobReader jobs, AdminStore audit, ArchiveMode mode, Events.OutboxSignal signal,
        TimeProvider time, CancellationToken ct)
    {
        if (!mode.KeepsVideos)
        {
            return Problems.Status(StatusCodes.Status409Conflict, "Archiving is off.", "Archive:Store is None; set FileSystem or AzureBlob to keep videos.");
        }
        if (jobId.Length > 64 || await jobs.GetJobAsync(jobId, ct) is not { } job) return Problems.NotFound("No such job.", $"There is no job '{jobId}'.");
        if (await store.RequestRetryAsync(jobId, time.GetUtcNow(), ct) is null)
        {
            return Problems.Status(StatusCodes.Status409Conflict, "Nothing to retry.",
                $"Job '{jobId}' is {job.Status} with archive {job.Archive?.Status ?? "none"}; only a completed job whose archive failed can be retried.");
        }
        await audit.AppendAuditAsync(time.GetUtcNow(), http.User.KeyId(), "archives.retry", jobId, 1, null, ct);
        signal.NotifyLocal();
        return TypedResults.Accepted($"/v1/extensions/{jobId}", new ArchiveRetryResult(jobId, ArchiveStatuses.Pending));
    }
}

/// <summary>With no video store, says once at start-up what that means and what to set.</summary>
public sealed class ArchiveOffNotice(IOptions<ArchiveOptions> options, ILogger<ArchiveOffNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Store is null)
        {
            logger.LogWarning("Archive:Store is None by default with Storage:Provider=Postgres: result videos are not kept and events carry the provider's " +
                "expiring URLs. Set Archive:Store=AzureBlob (or FileSystem with a shared Archive:Path) to keep them.");
        }
        else
        {
            logger.LogInformation("Archive:Store=None: result videos are not kept; events carry the provider's URLs.");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
