using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VideoCallbacks.Api.Events;

namespace VideoCallbacks.Api.Caching;

public static class CacheExtensions
{
    /// <summary>
    /// HybridCache (memory, plus Redis as its second level when <c>Cache:Redis:Configuration</c> is set), the shared
    /// rate-limit buckets and the cross-instance wake-up. Without Redis each falls back to its in-process form.
    /// </summary>
    public static IServiceCollection AddCache(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedisOptions>().Bind(configuration.GetSection(RedisOptions.Section)).ValidateDataAnnotations()
            .Validate(o => !o.Enabled || Parses(o), "Cache:Redis:Configuration is not a valid StackExchange.Redis configuration string.")
            .ValidateOnStart();
        services.AddSingleton<RedisConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisConnection>());
        services.AddSingleton<SharedTokenBuckets>();
        services.AddSingleton<SubmissionAnswerCache>();
        services.AddHybridCache();

        var settings = configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() ?? new RedisOptions();
        if (!settings.Enabled) return services;

        services.AddStackExchangeRedisCache(_ => { });
        services.AddOptions<RedisCacheOptions>().Configure<RedisConnection, IOptions<RedisOptions>>((o, connection, redis) =>
        {
            o.InstanceName = redis.Value.Prefix;
            o.ConnectionMultiplexerFactory = async () => await connection.MultiplexerAsync();
        });
        // HybridCache must see Redis only through the guard (misses at once while Redis is down or slow).
        var redisCache = services.Last(d => d.ServiceType == typeof(IDistributedCache));
        services.Remove(redisCache);
        services.AddSingleton<IDistributedCache>(sp => new GuardedDistributedCache(
            (IDistributedCache)ActivatorUtilities.CreateInstance(sp, redisCache.ImplementationType!), sp.GetRequiredService<RedisConnection>()));

        services.AddSingleton<RedisWakeups>();
        services.AddSingleton<IOutboxPeers>(sp => sp.GetRequiredService<RedisWakeups>());
        services.AddHostedService<RedisWakeupListener>();
        return services;
    }

    private static bool Parses(RedisOptions o)
    {
        try
        {
            return RedisConnection.ClientOptions(o).EndPoints.Count > 0;
        }
        catch (Exception e) when (e is ArgumentException or RedisException)
        {
            return false;
        }
    }
}
