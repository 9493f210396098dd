using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace VideoCallbacks.Api.Caching;

/// <summary>
/// The store behind every rate-limit partition: with Redis up, one token bucket per partition for the whole
/// deployment; with Redis off, down or slow, this instance's own bucket (the limit then holds per instance).
/// A new partition gets this by building its limiter here.
/// </summary>
public sealed class SharedTokenBuckets(RedisConnection redis)
{
    public RateLimitPartition<string> Partition(string policy, string partitionKey, TokenBucketRateLimiterOptions options) =>
        RateLimitPartition.Get(partitionKey, key => Create(policy, key, options));

    public RateLimiter Create(string policy, string partitionKey, TokenBucketRateLimiterOptions options)
    {
        // The partitioned limiter replenishes local buckets itself (as RateLimitPartition.GetTokenBucketLimiter does).
        var local = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.TokenLimit,
            TokensPerPeriod = options.TokensPerPeriod,
            ReplenishmentPeriod = options.ReplenishmentPeriod,
            QueueLimit = 0,
            AutoReplenishment = false,
        });
        if (!redis.Enabled) return local;
        // Partition keys may be API key ids or addresses: only a hash of them goes to Redis.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partitionKey)))[..32];
        return new RedisTokenBucketLimiter(redis, $"{redis.Prefix}ratelimit:{policy}:{hash}", options, local);
    }
}

/// <summary>
/// One token bucket in Redis, taken from by one Lua script per request (Redis's own clock, so instances
/// with skewed clocks agree). Falls back to <paramref name="local"/> whenever Redis cannot answer in time.
/// </summary>
internal sealed class RedisTokenBucketLimiter(RedisConnection redis, string key, TokenBucketRateLimiterOptions options, TokenBucketRateLimiter local)
    : ReplenishingRateLimiter
{
    private const string TakeScript = """
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local wanted = tonumber(ARGV[3])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 't', 'at')
        local tokens = tonumber(state[1]) or capacity
        local at = tonumber(state[2]) or now
        tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
        local allowed = 0
        local retry = 0
        if tokens >= wanted then
          tokens = tokens - wanted
          allowed = 1
        else
          retry = math.ceil((wanted - tokens) / rate)
        end
        redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
        return { allowed, retry }
        """;

    private static readonly RateLimitLease GoAsync = new Lease(false, null);
    private readonly RedisKey[] _keys = [key];
    // Tokens per millisecond: the script refills continuously rather than in whole periods.
    private readonly double _ratePerMs = options.TokensPerPeriod / options.ReplenishmentPeriod.TotalMilliseconds;
    private long _lastUsedTicks = Environment.TickCount64;

    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastUsedTicks));

    public override bool IsAutoReplenishing => false;

    public override TimeSpan ReplenishmentPeriod => local.ReplenishmentPeriod;

    public override bool TryReplenish() => local.TryReplenish();

    public override RateLimiterStatistics? GetStatistics() => local.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref _lastUsedTicks, Environment.TickCount64);
        // Redis needs an await: a failed attempt sends the middleware on to AcquireAsync, which asks Redis.
        return redis.IsUp ? GoAsync : local.AttemptAcquire(permitCount);
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsedTicks, Environment.TickCount64);
        if (permitCount == 0) return new Lease(true, null);
        var (ok, result) = await redis.TryAsync(db => db.ScriptEvaluateAsync(TakeScript, _keys,
            [options.TokenLimit, _ratePerMs, permitCount]));
        if (!ok || result is null) return local.AttemptAcquire(permitCount);
        var values = (RedisResult[])result!;
        return (int)values[0] == 1 ? new Lease(true, null) : new Lease(false, TimeSpan.FromMilliseconds((long)values[1]));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) local.Dispose();
        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
