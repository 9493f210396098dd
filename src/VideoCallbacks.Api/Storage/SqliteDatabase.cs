using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace VideoCallbacks.Api.Storage;

/// <summary>The embedded default: one file, WAL journal, writers serialized by SQLite itself.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The writer gate never allocates a wait handle, and disposing it could fault a write still finishing at shutdown.")]
public sealed class SqliteDatabase : SqlDatabase
{
    private readonly string _connectionString;

    public SqliteDatabase(string connectionString, StoreSettings settings) : base(settings)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true };
        // Wait up to 30 s for a busy file unless the operator chose a timeout ("Default Timeout=..." wins).
        if (!builder.ShouldSerialize("Default Timeout") && builder.DefaultTimeout < 30) builder.DefaultTimeout = 30;
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (builder.DataSource != ":memory:" && directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        _connectionString = builder.ToString();
    }

    private readonly SemaphoreSlim _writer = new(1, 1);

    public override string Name => "Sqlite";

    protected override async ValueTask<IDisposable?> EnterWriterAsync(CancellationToken ct)
    {
        await _writer.WaitAsync(ct);
        return new Release(_writer);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Release();
        }
    }

    protected override DbConnection CreateConnection() => new SqliteConnection(_connectionString);

    /// <summary>
    /// Statement journals (a multi-row statement's undo) in memory instead of a temp file created and unlinked per
    /// batch (strace showed one per commit). The page cache stays at SQLite's default: 16 MB per connection bought
    /// little and cost ~40 MB of RSS with archiving (docs/benchmarks.md, issue 23). Pooled connections keep it.
    /// </summary>
    protected override Task OnOpenedAsync(DbConnection connection, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("PRAGMA temp_store=MEMORY;", cancellationToken: ct));

    public override async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        // WAL survives in the file; readers then never block the writer.
        await c.ExecuteAsync("PRAGMA journal_mode=WAL;");
        // BEGIN IMMEDIATE takes the write lock first, so two instances starting at once apply each migration once.
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken);
        await c.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            transaction: tx, cancellationToken: cancellationToken));
        var applied = (await c.QueryAsync<long>(new CommandDefinition("SELECT version FROM schema_migrations", transaction: tx, cancellationToken: cancellationToken))).ToHashSet();
        foreach (var m in Schema.For("INTEGER PRIMARY KEY AUTOINCREMENT").Where(m => !applied.Contains(m.Version)))
        {
            await c.ExecuteAsync(new CommandDefinition(m.Sql, transaction: tx, cancellationToken: cancellationToken));
            await c.ExecuteAsync(new CommandDefinition("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @at)",
                new { m.Version, m.Name, at = Settings.Time.GetUtcNow().ToUnixTimeMilliseconds() }, tx, cancellationToken: cancellationToken));
        }
        await tx.CommitAsync(cancellationToken);
    }
}
