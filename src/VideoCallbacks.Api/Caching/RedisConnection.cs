using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace VideoCallbacks.Api.Caching;

public static class RedisStates
{
    /// <summary>No Redis configured: one instance, in-process equivalents.</summary>
    public const string Off = "off";
    public const string Up = "up";
    /// <summary>Configured but unreachable: running from the database and per-instance limits until it returns.</summary>
    public const string Degraded = "degraded";
}

/// <summary>
/// The one Redis connection of this instance. It connects in the background and reconnects by itself;
/// callers never wait for it: while it is down they get "unavailable" at once, and a slow Redis is cut off
/// after <see cref="RedisOptions.OperationTimeout"/>. State changes are logged once each, not per request.
/// </summary>
public sealed class RedisConnection(IOptions<RedisOptions> options, TimeProvider time, ILogger<RedisConnection> logger) : IHostedService, IAsyncDisposable
{
    private readonly RedisOptions _options = options.Value;
    private readonly TaskCompletionSource<ConnectionMultiplexer> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ConnectionMultiplexer? _multiplexer;
    private int _lastLoggedUp = -1;

    public bool Enabled => _options.Enabled;

    public string Prefix => _options.Prefix;

    public TimeSpan OperationTimeout => _options.OperationTimeout;

    public string State => !Enabled ? RedisStates.Off : IsUp ? RedisStates.Up : RedisStates.Degraded;

    public bool IsUp => _multiplexer is { IsConnected: true };

    /// <summary>The multiplexer while it is connected, else null.</summary>
    public IConnectionMultiplexer? Connected => _multiplexer is { IsConnected: true } mux ? mux : null;

    /// <summary>The multiplexer once its first connection attempt has been made (connected or not).</summary>
    public Task<ConnectionMultiplexer> MultiplexerAsync() => _connected.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled) _ = Task.Run(ConnectAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static ConfigurationOptions ClientOptions(RedisOptions o)
    {
        var c = ConfigurationOptions.Parse(o.Configuration!);
        // Start and keep running without Redis; commands fail at once while disconnected instead of queueing.
        c.AbortOnConnectFail = false;
        c.BacklogPolicy = BacklogPolicy.FailFast;
        if (!o.Configuration!.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase)) c.ConnectTimeout = 2000;
        // Come back within about a second of Redis returning (the default backs off to tens of seconds).
        c.ReconnectRetryPolicy = new LinearRetry(1000);
        c.ClientName = "videocallbacks";
        return c;
    }

    private async Task ConnectAsync()
    {
        var config = ClientOptions(_options);
        try
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(config);
            mux.ConnectionFailed += (_, _) => LogState();
            mux.ConnectionRestored += (_, _) => LogState();
            _multiplexer = mux;
            LogState();
            _connected.TrySetResult(mux);
        }
        catch (Exception e) when (e is RedisException or ArgumentException)
        {
            // Only a configuration the client cannot use at all lands here; the database carries on alone.
            logger.LogError("Redis ({Endpoints}) cannot be used: {Reason}. Running without it.", Endpoints(config), e.Message);
        }
    }

    private void LogState()
    {
        var up = IsUp ? 1 : 0;
        if (Interlocked.Exchange(ref _lastLoggedUp, up) == up) return;
        var endpoints = _multiplexer is null ? "" : string.Join(",", _multiplexer.GetEndPoints().Select(e => e.ToString()));
        if (up == 1)
        {
            logger.LogInformation("Redis {Endpoints} is up: caches, rate limits and wake-ups are shared across instances.", endpoints);
        }
        else
        {
            logger.LogWarning("Redis {Endpoints} is unreachable: running from the database, with per-instance rate limits and polling, until it returns.", endpoints);
        }
    }

    private static string Endpoints(ConfigurationOptions c) => string.Join(",", c.EndPoints.Select(e => e.ToString()));

    /// <summary>
    /// Runs one Redis operation if Redis is up, waiting at most the operation timeout. False (and no exception)
    /// when Redis is off, down, slow or failing: the caller then does without it.
    /// </summary>
    public async ValueTask<(bool Ok, T? Value)> TryAsync<T>(Func<IDatabase, Task<T>> operation)
    {
        var mux = _multiplexer;
        if (mux is not { IsConnected: true }) return (false, default);
        Task<T> task;
        try
        {
            task = operation(mux.GetDatabase());
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            return (false, default);
        }
        try
        {
            return (true, await task.WaitAsync(_options.OperationTimeout, time));
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            // A late failure of an abandoned command must not surface as an unobserved exception.
            _ = task.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return (false, default);
        }
    }

    /// <summary>The same guard around a call that is not a raw <see cref="IDatabase"/> command (the distributed cache).</summary>
    public ValueTask<(bool Ok, T? Value)> TryAsync<T>(Func<Task<T>> operation) => TryAsync(_ => operation());

    public static bool IsRedisFailure(Exception e) =>
        e is RedisException or TimeoutException or ObjectDisposedException or InvalidOperationException or IOException;

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is { } mux) await mux.DisposeAsync();
    }
}
