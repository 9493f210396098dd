using Microsoft.Extensions.Caching.Hybrid;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Callbacks;

/// <summary>What verifying a callback needs to know about its job. Hashes only.</summary>
public sealed record JobCredentials(string JobId, string Provider, string TokenHash, string? SecretHash, string? ProviderTaskId)
{
    public static JobCredentials From(Job job) => new(job.JobId, job.Provider, job.TokenHash, job.SecretHash, job.ProviderTaskId);
}

/// <summary>
/// Keeps the hot path off the database: a job's token and secret hashes never change, so once its task id is
/// bound they can be cached (in memory, and in Redis for every instance when configured) without any invalidation.
/// Unbound jobs are always read afresh.
/// </summary>
public sealed class JobCredentialCache(JobReader store, HybridCache cache)
{
    private static readonly HybridCacheEntryOptions Entry = new() { Expiration = TimeSpan.FromDays(1), LocalCacheExpiration = TimeSpan.FromHours(1) };
    private long _databaseReads;

    /// <summary>How many times this instance read credentials from the database (the cache missed everywhere).</summary>
    public long DatabaseReads => Interlocked.Read(ref _databaseReads);

    public async ValueTask<JobCredentials?> GetAsync(string jobId, CancellationToken ct)
    {
        try
        {
            return await cache.GetOrCreateAsync(Key(jobId), ct => ReadBoundAsync(jobId, ct), Entry, cancellationToken: ct);
        }
        catch (NotCacheable e)
        {
            return e.Credentials;
        }
    }

    /// <summary>A job was just bound to its provider task: share its credentials before the first callback arrives.</summary>
    public ValueTask RememberAsync(Job job, CancellationToken ct) =>
        job.ProviderTaskId is null ? ValueTask.CompletedTask : cache.SetAsync(Key(job.JobId), JobCredentials.From(job), Entry, cancellationToken: ct);

    private async ValueTask<JobCredentials> ReadBoundAsync(string jobId, CancellationToken ct)
    {
        Interlocked.Increment(ref _databaseReads);
        var job = await store.GetJobAsync(jobId, ct);
        // Throwing is how a HybridCache factory declines to cache: unknown and unbound jobs are not cached.
        if (job?.ProviderTaskId is null) throw new NotCacheable(job is null ? null : JobCredentials.From(job));
        return JobCredentials.From(job);
    }

    private static string Key(string jobId) => "cred:" + jobId;

    private sealed class NotCacheable(JobCredentials? credentials) : Exception
    {
        public JobCredentials? Credentials { get; } = credentials;
    }
}
