using System.Data.Common;
using Dapper;
using Npgsql;

namespace VideoCallbacks.Api.Storage;

/// <summary>For several instances: row locks, SKIP LOCKED claims and an advisory lock around outbox inserts.</summary>
public sealed class PostgresDatabase(NpgsqlDataSource dataSource, StoreSettings settings) : SqlDatabase(settings), IDisposable, IAsyncDisposable
{
    // Arbitrary constants naming our advisory locks.
    private const long MigrationLock = 0x5643_0001;
    private const long OutboxLock = 0x5643_0002;

    public override string Name => "Postgres";

    protected override DbConnection CreateConnection() => dataSource.CreateConnection();

    /// <summary>Closes the pooled connections with the host, so a stopped instance leaves none open on the server.</summary>
    public void Dispose() => dataSource.Dispose();

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    public override string ForUpdate => " FOR UPDATE";

    public override string ForUpdateSkipLocked => "FOR UPDATE SKIP LOCKED";

    public override string SequenceInList => "sequence = ANY(@sequences)";

    public override string JobIdInList => "job_id = ANY(@jobIds)";

    public override bool ArrayParameters => true;

    public override string OutboxLockQuery { get; } = $"SELECT pg_advisory_xact_lock({OutboxLock})";

    public override async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        // Session lock: a second instance starting now waits here, then finds nothing left to do.
        await c.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@MigrationLock)", new { MigrationLock }, cancellationToken: cancellationToken));
        try
        {
            await c.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                cancellationToken: cancellationToken));
            var applied = (await c.QueryAsync<long>(new CommandDefinition("SELECT version FROM schema_migrations", cancellationToken: cancellationToken))).ToHashSet();
            foreach (var m in Schema.For("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY").Where(m => !applied.Contains(m.Version)))
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken);
                await c.ExecuteAsync(new CommandDefinition(m.Sql, transaction: tx, cancellationToken: cancellationToken));
                await c.ExecuteAsync(new CommandDefinition("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @at)",
                    new { m.Version, m.Name, at = Settings.Time.GetUtcNow().ToUnixTimeMilliseconds() }, tx, cancellationToken: cancellationToken));
                await tx.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            await c.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@MigrationLock)", new { MigrationLock }, cancellationToken: CancellationToken.None));
        }
    }
}
