using Microsoft.Extensions.Caching.Distributed;

namespace VideoCallbacks.Api.Caching;

/// <summary>
/// HybridCache's second level: the Redis cache behind <see cref="RedisConnection"/>'s guard. While Redis is down
/// or slow, reads are misses and writes are dropped, at once, so HybridCache falls through to memory and the
/// database without waiting, throwing or logging per request.
/// </summary>
public sealed class GuardedDistributedCache(IDistributedCache redis, RedisConnection connection) : IDistributedCache
{
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var (_, value) = await connection.TryAsync(() => redis.GetAsync(key, CancellationToken.None));
        return value;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        await connection.TryAsync(async () => { await redis.SetAsync(key, value, options, CancellationToken.None); return true; });

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default) =>
        await connection.TryAsync(async () => { await redis.RefreshAsync(key, CancellationToken.None); return true; });

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default) =>
        await connection.TryAsync(async () => { await redis.RemoveAsync(key, CancellationToken.None); return true; });
}
