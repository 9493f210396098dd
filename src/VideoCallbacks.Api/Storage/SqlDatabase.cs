using System.Data.Common;
using Dapper;

namespace VideoCallbacks.Api.Storage;

/// <summary>
/// What every feature's store shares: connections, the few dialect differences between the engines
/// (row locks, list parameters, the outbox sequence lock), the SQLite writer gate and the transaction
/// helper. The SQL itself lives beside the feature that uses it.
/// </summary>
public abstract class SqlDatabase(StoreSettings settings)
{
    public abstract string Name { get; }

    public StoreSettings Settings { get; } = settings;

    protected abstract DbConnection CreateConnection();

    /// <summary>Row lock for read-modify-write inside a transaction (empty where the engine serializes writers).</summary>
    public virtual string ForUpdate => "";

    /// <summary>Lets several instances claim disjoint rows.</summary>
    public virtual string ForUpdateSkipLocked => "";

    /// <summary>
    /// Matches <c>sequence</c> against the list parameter <c>@sequences</c> (an array): Dapper expands it for
    /// SQLite, but hands PostgreSQL one array parameter, which only <c>= ANY(..)</c> accepts.
    /// </summary>
    public virtual string SequenceInList => "sequence IN @sequences";

    /// <summary>The same for <c>job_id</c> against <c>@jobIds</c>.</summary>
    public virtual string JobIdInList => "job_id IN @jobIds";

    /// <summary>
    /// How a batch is written. True (PostgreSQL): one statement per table, each column bound as one array parameter
    /// (<c>unnest</c>), so a statement's text is the same for any batch size (it can be prepared, e.g. Npgsql's
    /// <c>Max Auto Prepare</c>) and costs one round trip; measured, the job update went from ~90 ms to ~15 ms per
    /// batch on a loaded machine (docs/benchmarks.md, issue 14). False (SQLite, in process): a statement per row,
    /// since there is no round trip to save and SQLite binds parameters by name in linear time.
    /// </summary>
    public virtual bool ArrayParameters => false;

    /// <summary>
    /// A query taking the outbox lock for the rest of the transaction, run by the event insert itself so sequence
    /// numbers become visible in order (a feed reader must never see 7 and later find 6). Null where writes are
    /// serialized anyway (SQLite's writer gate).
    /// </summary>
    public virtual string? OutboxLockQuery => null;

    public abstract Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Held around every write. PostgreSQL needs nothing here; SQLite has one writer at a time and, when it is busy,
    /// makes the others sleep and poll, so its database queues writers in process instead (no lost milliseconds).
    /// </summary>
    protected virtual ValueTask<IDisposable?> EnterWriterAsync(CancellationToken ct) => ValueTask.FromResult<IDisposable?>(null);

    /// <summary>Per-connection settings an engine applies on every open (pooled connections included).</summary>
    protected virtual Task OnOpenedAsync(DbConnection connection, CancellationToken ct) => Task.CompletedTask;

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = CreateConnection();
        try
        {
            await connection.OpenAsync(ct);
            await OnOpenedAsync(connection, ct);
            Settings.Outage?.ConnectionSucceeded();
            return connection;
        }
        catch (Exception e)
        {
            if (StoreOutage.IsUnreachable(e)) Settings.Outage?.ConnectionFailed(e);
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs reads on a connection of their own.</summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await read(c);
    }

    /// <summary>Runs one write statement (or a few that need no transaction) inside the writer gate.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken ct)
    {
        using var writer = await EnterWriterAsync(ct);
        await using var c = await OpenAsync(ct);
        return await write(c);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction inside the writer gate and commits it.</summary>
    public async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        using var writer = await EnterWriterAsync(ct);
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var result = await work(c, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var c = await OpenAsync(cancellationToken);
            await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return true;
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}

/// <summary>What every database needs beyond its connection string.</summary>
public sealed record StoreSettings(TimeProvider Time, bool PublishedOnCommit)
{
    /// <summary>Told when connections start failing and when they work again (null: nobody listens, as in store tests).</summary>
    public StoreOutage? Outage { get; init; }
}

/// <summary>Times are stored as Unix milliseconds on both engines.</summary>
public static class Sql
{
    public static long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();

    public static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    public static DateTimeOffset? FromMs(long? ms) => ms is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms.Value);

    public static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max];

    public static string Where(List<string> clauses) => clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);

    /// <summary>
    /// A batch's rows as one JSON array of arrays, for SQLite's <c>jsonb_each</c> (its <c>unnest</c>): one statement
    /// per batch instead of one per row. Values are strings, integers or null, read back with <c>json_extract</c>.
    /// <c>jsonb_each</c> rather than <c>json_each</c>: it parses the text once and hands each row over as a JSONB
    /// blob, which <c>json_extract</c> reads directly; with <c>json_each</c> every extract re-parsed its row's text
    /// (a quarter of SQLite's CPU in the ingest profile, +17-29% ingest rate measured in docs/benchmarks.md).
    /// </summary>
    public static string JsonRows(IEnumerable<object?[]> rows) => System.Text.Json.JsonSerializer.Serialize(rows);
}
