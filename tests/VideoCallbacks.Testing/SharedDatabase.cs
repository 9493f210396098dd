using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Testing;

public enum Db { Sqlite, Postgres }

/// <summary>
/// A fresh database that outlives the service instances using it (restarts, several instances, child processes).
/// A SQLite file is deleted on dispose; a PostgreSQL database goes with the throwaway server.
/// </summary>
public sealed class SharedDatabase : IDisposable
{
    private readonly string? _directory;

    private SharedDatabase(Db db, string connectionString, string? directory)
    {
        Db = db;
        ConnectionString = connectionString;
        _directory = directory;
    }

    public Db Db { get; }

    /// <summary>The <c>Storage:Provider</c> value.</summary>
    public string Provider => Db == Db.Postgres ? "Postgres" : "Sqlite";

    public string ConnectionString { get; }

    /// <summary>The database as the service opens it, to read what the instances left in it (leases, outbox); a PostgreSQL one is disposable.</summary>
    public SqlDatabase Open()
    {
        var settings = new StoreSettings(TimeProvider.System, PublishedOnCommit: false);
        return Db == Db.Postgres
            ? new PostgresDatabase(PostgresDatabase.DataSource(ConnectionString), settings)
            : new SqliteDatabase(ConnectionString, settings);
    }

    public static async Task<SharedDatabase> CreateAsync(Db db)
    {
        if (db == Db.Postgres)
        {
            return new SharedDatabase(db, await PostgresServer.CreateDatabaseAsync(), null);
        }

        var directory = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return new SharedDatabase(db, $"Data Source={Path.Combine(directory, "relay.db")}", directory);
    }

    public void Dispose()
    {
        if (_directory is null)
        {
            return;
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }
}
