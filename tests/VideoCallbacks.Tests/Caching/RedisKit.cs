using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace VideoCallbacks.Tests.Caching;

/// <summary>Two instances of the service on one PostgreSQL database and one real Redis.</summary>
internal sealed class TwoInstances(RedisServer redis, string prefix, TestApp a, TestApp b) : IAsyncDisposable
{
    public RedisServer Redis { get; } = redis;
    public string Prefix { get; } = prefix;
    public TestApp A { get; } = a;
    public TestApp B { get; } = b;

    public static async Task<TwoInstances> StartAsync(Action<Dictionary<string, string?>>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        var redis = await RedisServer.StartAsync();
        var prefix = $"vc-test-{Guid.NewGuid():N}:";
        var database = await PostgresServer.CreateDatabaseAsync();
        void Settings(Dictionary<string, string?> s)
        {
            s["Cache:Redis:Configuration"] = redis.Configuration;
            s["Cache:Redis:Prefix"] = prefix;
            // Generous for a shared, noisy test machine; the production default is 50 ms.
            s["Cache:Redis:OperationTimeout"] = "00:00:01";
            configure?.Invoke(s);
        }
        var a = await TestApp.StartAsync(Db.Postgres, Settings, services, connectionString: database);
        var b = await TestApp.StartAsync(Db.Postgres, Settings, services, connectionString: database);
        var both = new TwoInstances(redis, prefix, a, b);
        await both.WaitForRedisAsync("up");
        return both;
    }

    public async Task WaitForRedisAsync(string state)
    {
        foreach (var app in new[] { A, B })
        {
            await Wait.UntilAsync(() => ReadyAsync(app), r => r.Redis == state, $"/readyz redis = {state} on {app.BaseUrl}");
        }
    }

    public static async Task<(HttpStatusCode Status, string Redis, string Body)> ReadyAsync(TestApp app)
    {
        var client = app.Driver.Anonymous;
        var response = await client.GetAsync("/readyz");
        var body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        return (response.StatusCode, doc.RootElement.GetProperty("redis").GetString()!, body);
    }

    /// <summary>The same path on instance B as <paramref name="url"/> (a callback URL handed out by A).</summary>
    public string OnB(string url) => new Uri(B.BaseUrl, new Uri(url).PathAndQuery).ToString();

    /// <summary>Every key under this test's prefix with everything stored in it, as text.</summary>
    public async Task<IReadOnlyDictionary<string, string>> DumpAsync()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(Redis.Configuration);
        var server = mux.GetServer(mux.GetEndPoints()[0]);
        var db = mux.GetDatabase();
        var dump = new Dictionary<string, string>();
        foreach (var key in server.Keys(pattern: Prefix + "*"))
        {
            var text = await db.KeyTypeAsync(key) switch
            {
                RedisType.String => System.Text.Encoding.UTF8.GetString((byte[])(await db.StringGetAsync(key))!),
                RedisType.Hash => string.Join("\n", (await db.HashGetAllAsync(key)).Select(e =>
                    $"{e.Name}={System.Text.Encoding.UTF8.GetString((byte[])e.Value!)}")),
                var other => $"<{other}>",
            };
            dump[key.ToString()] = text;
        }
        return dump;
    }

    /// <summary>How many clients listen on the wake-up channel.</summary>
    public async Task<long> WakeupListenersAsync()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(Redis.Configuration);
        var result = await mux.GetServer(mux.GetEndPoints()[0]).ExecuteAsync("PUBSUB", "NUMSUB", Prefix + "outbox");
        return (long)((RedisResult[])result!)[1];
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>Keeps every log entry of the instances it is added to.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
