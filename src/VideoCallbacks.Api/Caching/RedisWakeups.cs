using StackExchange.Redis;
using VideoCallbacks.Api.Events;

namespace VideoCallbacks.Api.Caching;

/// <summary>
/// Cross-instance wake-up: a commit here publishes on a Redis channel and every other instance's relay and SSE
/// streams wake at once. Fire-and-forget: a lost message only means waiting for the poll, as without Redis.
/// </summary>
public sealed class RedisWakeups(RedisConnection redis) : IOutboxPeers
{
    /// <summary>Tells this instance's own messages apart, so it does not wake itself twice.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    public RedisChannel Channel { get; } = RedisChannel.Literal(redis.Prefix + "outbox");

    public void Publish()
    {
        if (redis.Connected is not { } mux) return;
        try
        {
            mux.GetSubscriber().Publish(Channel, InstanceId, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisConnection.IsRedisFailure(e))
        {
            // Dropped: the pollers find the events anyway.
        }
    }
}

/// <summary>Listens on the wake-up channel; the client re-subscribes by itself after a reconnect.</summary>
public sealed class RedisWakeupListener(RedisConnection redis, RedisWakeups wakeups, OutboxSignal signal, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var mux = await redis.MultiplexerAsync().WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await mux.GetSubscriber().SubscribeAsync(wakeups.Channel, (_, from) =>
                {
                    if (from != wakeups.InstanceId) signal.NotifyLocal();
                });
                return;
            }
            catch (Exception e) when (RedisConnection.IsRedisFailure(e))
            {
                // Redis is down at startup: RedisConnection has said so; try again shortly.
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }
}
