using Dapper;
using VideoCallbacks.Api.Security;
using VideoCallbacks.Api.Storage;
using static VideoCallbacks.Api.Storage.Sql;

namespace VideoCallbacks.Api.Dashboard;

/// <summary>
/// Dashboard sessions on the server, so signing out ends a session everywhere: the cookie carries a random session id
/// (inside the Data Protection ticket, shared by every instance), the table only its hash and whether it was revoked.
/// A copied cookie stops working the moment its session is signed out.
/// </summary>
public sealed class DashboardSessions(SqlDatabase db, TimeProvider time)
{
    public async Task<string> StartAsync(string adminKeyId, CancellationToken ct)
    {
        var id = Secrets.NewToken();
        var now = time.GetUtcNow();
        await db.WriteAsync(async c =>
        {
            // Sessions older than the longest lifetime allowed are dead anyway; forget them as new ones start.
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM dashboard_sessions WHERE created_at < @old",
                new { old = Ms(now - DashboardOptions.MaxSessionAge) }, cancellationToken: ct));
            return await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO dashboard_sessions (session_hash, admin_key_id, created_at) VALUES (@hash, @adminKeyId, @now)",
                new { hash = Secrets.Hash(id), adminKeyId, now = Ms(now) }, cancellationToken: ct));
        }, ct);
        return id;
    }

    public Task<bool> IsActiveAsync(string id, CancellationToken ct) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM dashboard_sessions WHERE session_hash = @hash AND revoked_at IS NULL",
            new { hash = Secrets.Hash(id) }, cancellationToken: ct)) == 1, ct);

    public Task RevokeAsync(string id, CancellationToken ct) =>
        db.WriteAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE dashboard_sessions SET revoked_at = @now WHERE session_hash = @hash AND revoked_at IS NULL",
            new { hash = Secrets.Hash(id), now = Ms(time.GetUtcNow()) }, cancellationToken: ct)), ct);
}
