using Microsoft.Extensions.Caching.Memory;
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
/// bound they can be cached, on every instance, without any invalidation. Unbound jobs are always read afresh.
/// </summary>
public sealed class JobCredentialCache(JobReader store) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 200_000 });

    public async ValueTask<JobCredentials?> GetAsync(string jobId, CancellationToken ct)
    {
        if (_cache.TryGetValue(jobId, out JobCredentials? cached)) return cached;
        var job = await store.GetJobAsync(jobId, ct);
        if (job is null) return null;
        var credentials = JobCredentials.From(job);
        if (credentials.ProviderTaskId is not null)
        {
            _cache.Set(jobId, credentials, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(1) });
        }
        return credentials;
    }

    public void Dispose() => _cache.Dispose();
}
