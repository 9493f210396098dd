using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;

namespace VideoCallbacks.Tests.Infrastructure;

/// <summary>
/// The real service on a real Kestrel port, with its own database. Each test starts its own;
/// nothing is shared between tests but the PostgreSQL server process.
/// </summary>
public sealed class TestApp : WebApplicationFactory<VideoCallbacks.Api.ApiAssembly>
{
    public const string ClientKey = TestKeys.Client;
    public const string OtherClientKey = TestKeys.OtherClient;
    public const string AdminKey = TestKeys.Admin;

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly string? _tempDir;
    private bool _keepFiles;

    private TestApp(Dictionary<string, string?> settings, Action<IServiceCollection>? services, string? tempDir, int port)
    {
        _settings = settings;
        _services = services;
        _tempDir = tempDir;
        Port = port;
        BaseUrl = new Uri($"http://127.0.0.1:{port}");
        UseKestrel(port);
    }

    public int Port { get; }
    public Uri BaseUrl { get; }
    public string StorageConnectionString => _settings["Storage:ConnectionString"]!;
    /// <summary>Where a FileSystem archive keeps this job's videos.</summary>
    public string ArchivePath(string jobId) => Path.Combine(_settings["Archive:Path"]!, jobId);

    public Db Db => _settings["Storage:Provider"] == "Postgres" ? Db.Postgres : Db.Sqlite;

    /// <summary>
    /// The exception a start that must fail surfaces. WebApplicationFactory sometimes reports a failed start as its own
    /// ObjectDisposedException (it asks the already disposed host for its server), alone or inside an
    /// AggregateException, hiding the cause: then start again, up to three times.
    /// </summary>
    public static async Task<Exception> StartFailureAsync(Db db, Action<Dictionary<string, string?>> configure)
    {
        static IEnumerable<Exception> Flatten(Exception e) => e is AggregateException a ? a.InnerExceptions.SelectMany(Flatten) : [e];
        for (var attempt = 1; ; attempt++)
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var app = await StartAsync(db, configure);
            });
            if (!Flatten(error).Any(e => e is ObjectDisposedException) || attempt == 3) return error;
        }
    }

    /// <summary>
    /// Holds reconciliation off (here it starts after 5 s): for tests whose silent jobs must stay submitted until
    /// the callback they post, however slow the machine.
    /// </summary>
    public static void NoReconcile(Dictionary<string, string?> settings) => settings["Reconcile:After"] = "01:00:00";

    /// <summary>Starts an app. Pass <paramref name="connectionString"/> to reuse a database (restart tests).</summary>
    public static async Task<TestApp> StartAsync(Db db, Action<Dictionary<string, string?>>? configure = null,
        Action<IServiceCollection>? services = null, string? connectionString = null, int? port = null)
    {
        string? tempDir = null;
        if (connectionString is null)
        {
            if (db == Db.Postgres)
            {
                connectionString = await PostgresServer.CreateDatabaseAsync();
            }
            else
            {
                tempDir = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(tempDir);
                connectionString = $"Data Source={Path.Combine(tempDir, "test.db")}";
            }
        }
        // A free port can be taken by someone else's outgoing connection before we bind it: try another.
        for (var attempt = 1; ; attempt++)
        {
            var p = port ?? Ports.Free();
            var settings = new Dictionary<string, string?>
            {
                ["Storage:Provider"] = db == Db.Postgres ? "Postgres" : "Sqlite",
                ["Storage:ConnectionString"] = connectionString,
                ["Auth:ApiKeys:0"] = ClientKey,
                ["Auth:ApiKeys:1"] = OtherClientKey,
                ["Auth:AdminApiKeys:0"] = AdminKey,
                ["Sandbox:Enabled"] = "true",
                ["Sandbox:UnsafeAllowOutsideDevelopment"] = "true",
                ["Callbacks:PublicBaseUrl"] = $"http://127.0.0.1:{p}",
                ["Sandbox:CallbackDelay"] = "00:00:00.200",
                ["Sandbox:ProgressInterval"] = "00:00:00.100",
                ["Providers:NanoGpt:PollInterval"] = "00:00:00.200",
                ["Reconcile:After"] = "00:00:05",
                ["RateLimits:PerKeyPerSecond"] = "1000",
                ["RateLimits:PerKeyBurst"] = "1000",
                ["Logging:LogLevel:Default"] = "Warning",
                // Archiving is the archive tests' subject (Archive/); elsewhere completions publish at once, as before.
                ["Archive:Store"] = "None",
                ["Archive:Path"] = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"), "videos"),
            };
            configure?.Invoke(settings);
            var app = new TestApp(settings, services, tempDir, p);
            try
            {
                app.StartServer();
                return app;
            }
            catch (IOException e) when (port is null && attempt < 5 && IsAddressInUse(e))
            {
                // The next attempt reuses the same database.
                app._keepFiles = true;
                await app.DisposeAsync();
            }
        }
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
                || x.GetType().Name == "AddressInUseException")
            {
                return true;
            }
        }
        return false;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        if (_services is not null) builder.ConfigureTestServices(_services);
    }

    /// <summary>
    /// The one way tests talk to this app: the client key, with <see cref="ServiceApi.Admin"/>, <see cref="ServiceApi.Anonymous"/>
    /// and <see cref="ServiceApi.As"/> for other keys; disposed with the app.
    /// </summary>
    public ServiceApi Driver => _driver ??= new ServiceApi(BaseUrl);

    private ServiceApi? _driver;

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public override async ValueTask DisposeAsync()
    {
        _driver?.Dispose();
        await base.DisposeAsync();
        if (_tempDir is not null && !_keepFiles)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(_tempDir, recursive: true); } catch (IOException) { }
        }
    }
}
