using Dapper;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Api.Events;

/// <summary>The event feed's one query: every event in sequence order, whatever its publish state.</summary>
public sealed class FeedQueries(SqlDatabase db)
{
    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(long after, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<StoredEvent>>(async c =>
        {
            var rows = await c.QueryAsync<EventRow>(new CommandDefinition(
                $"SELECT {EventRows.Columns} FROM events WHERE sequence > @after ORDER BY sequence LIMIT @limit",
                new { after, limit }, cancellationToken: cancellationToken));
            return rows.Select(r => r.ToEvent()).ToList();
        }, cancellationToken);
}
