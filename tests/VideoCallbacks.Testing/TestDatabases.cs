using Microsoft.Data.Sqlite;
using Npgsql;
using VideoCallbacks.Api.Admin;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Callbacks;
using VideoCallbacks.Api.Events;
using VideoCallbacks.Api.Jobs;
using VideoCallbacks.Api.Providers;
using VideoCallbacks.Api.Storage;
using VideoCallbacks.Api.Submissions;

namespace VideoCallbacks.Testing;

/// <summary>How the store contract tests make a database on one engine and open it.</summary>
public interface ITestDatabase
{
    /// <summary>A fresh, empty database; answers its connection string.</summary>
    Task<string> NewDatabaseAsync();

    /// <summary>A new database object on an existing database (not migrated).</summary>
    SqlDatabase Open(string connectionString, StoreSettings settings);

    /// <summary>Runs a scalar query straight against the database, bypassing the stores.</summary>
    Task<object?> ScalarAsync(string connectionString, string sql);

    Task ReleaseAsync();
}

/// <summary>Every feature's store on one database, as the service wires them.</summary>
public sealed class Stores(SqlDatabase database)
{
    public SqlDatabase Database { get; } = database;
    public JobReader Jobs { get; } = new(database);
    public SubmissionStore Submissions { get; } = new(database);
    public IngestStore Ingest { get; } = new(database);
    public FeedQueries Feed { get; } = new(database);
    public OutboxStore Outbox { get; } = new(database);
    public CheckScheduleStore Checks { get; } = new(database);
    public AdminStore Admin { get; } = new(database);
}

public sealed class SqliteTestDatabase : ITestDatabase
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vc-store-tests", Guid.NewGuid().ToString("N"));
    private int _files;

    public Task<string> NewDatabaseAsync()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, $"x{Interlocked.Increment(ref _files)}.db");
        return Task.FromResult($"Data Source={file}");
    }

    public SqlDatabase Open(string connectionString, StoreSettings settings) => new SqliteDatabase(connectionString, settings);

    public async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var c = new SqliteConnection(connectionString);
        await c.OpenAsync();
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public Task ReleaseAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a pooled connection of a parallel test may still hold the file for a moment.
        }
        return Task.CompletedTask;
    }
}

public sealed class PostgresTestDatabase : ITestDatabase
{
    private readonly List<NpgsqlDataSource> _dataSources = [];

    public Task<string> NewDatabaseAsync() => PostgresServer.CreateDatabaseAsync();

    public SqlDatabase Open(string connectionString, StoreSettings settings)
    {
        var dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
        lock (_dataSources) _dataSources.Add(dataSource);
        return new PostgresDatabase(dataSource, settings);
    }

    public async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync();
    }

    public async Task ReleaseAsync()
    {
        foreach (var dataSource in _dataSources) await dataSource.DisposeAsync();
    }
}
