using Dapper;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Events;

/// <summary>The event feed's queries: every event in sequence order, whatever its publish state, for one client or all.</summary>
public sealed class FeedQueries(SqlDatabase db)
{
    /// <param name="client">The tenant whose events to read; null for every client (admin keys, the shared stream reader).</param>
    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long after, int limit, CancellationToken cancellationToken, string? client = null) =>
        db.ReadAsync<IReadOnlyList<StoredEvent>>(async c =>
        {
            // Two texts rather than "(@client IS NULL OR client = @client)", so each has a plan on its own index.
            var sql = client is null
                ? $"SELECT {EventRows.Columns} FROM events WHERE sequence > @after ORDER BY sequence LIMIT @limit"
                : $"SELECT {EventRows.Columns} FROM events WHERE client = @client AND sequence > @after ORDER BY sequence LIMIT @limit";
            var rows = await c.QueryAsync<EventRow>(new CommandDefinition(sql, new { after, limit, client }, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToEvent()).ToList();
        }, cancellationToken);

    /// <summary>The newest sequence number (0 for an empty store): where the shared stream reader starts.</summary>
    public Task<long> NewestSequenceAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(MAX(sequence), 0) FROM events", cancellationToken: cancellationToken)), cancellationToken);
}
