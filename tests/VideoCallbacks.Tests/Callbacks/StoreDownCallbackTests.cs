using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace VideoCallbacks.Tests.Callbacks;

/// <summary>
/// Persist, then acknowledge: a callback the store cannot take is answered 503 and leaves no trace, and the
/// provider's retry then goes through. SQLite: another connection holds the write lock (busy timeout 1 s);
/// PostgreSQL: the database refuses connections and the app's sessions are terminated.
/// </summary>
public sealed class StoreDownCallbackTests
{
    [Theory, EachOnBothDatabases(KieProvider.Name, ApiframeProvider.Name)]
    public async Task Callback_while_the_store_is_down_gives_503_and_no_event(Db db, string provider)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            if (db == Db.Sqlite) s["Storage:ConnectionString"] += ";Default Timeout=1";
            // Only the callback may complete the job here.
            TestApp.NoReconcile(s);
        });
        var hook = await Kit.SubmitForHookAsync(app, provider);
        var body = provider == KieProvider.Name
            ? Fixture.Load("kie/callback-success.json", hook.ProviderTaskId!)
            : Fixture.Load("apiframe/finished-no-status.json", hook.ProviderTaskId!);
        Task<HttpResponseMessage> Send() => provider == KieProvider.Name ? Kit.PostKieAsync(app, hook, body) : Kit.PostApiframeAsync(app, hook, body);

        var refused = await WhileStoreDownAsync(app, Send);

        var text = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected 503, got {(int)refused.StatusCode}: {text}");
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.JsonAsync();
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("retryable").GetBoolean());

        // Nothing half-written: read the database directly (the app's pool may still hold connections the server closed).
        Assert.Equal(1, await CountAsync(app, $"SELECT COUNT(*) FROM events WHERE job_id = '{hook.JobId}'"));
        Assert.Equal(0, await CountAsync(app, $"SELECT COUNT(*) FROM callbacks WHERE job_id = '{hook.JobId}'"));
        Assert.Equal(1, await CountAsync(app, $"SELECT COUNT(*) FROM jobs WHERE job_id = '{hook.JobId}' AND status = 'submitted' AND progress = 0"));

        // The provider retries; once the store is back it goes through (a dead pooled connection may cost a retry or two).
        var accepted = await Wait.UntilAsync(Send, r => r.StatusCode == HttpStatusCode.OK, "a retried callback to be accepted");
        Assert.Equal(CallbackOutcomes.Accepted, Kit.Outcome(await Kit.AckAsync(accepted)));
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:completed"], Kit.Ids(await app.Driver.FeedAsync(hook.JobId)));
        var stored = Assert.Single(await Kit.CallbacksAsync(app), c => c.JobId == hook.JobId);
        Assert.Equal(CallbackOutcomes.Accepted, stored.Outcome);
    }

    [Fact]
    public async Task Slow_commit_answers_503_inside_the_providers_timeout_and_the_late_commit_is_not_doubled()
    {
        // The store is not down, only stuck behind another writer for longer than the provider would wait.
        await using var app = await TestApp.StartAsync(Db.Sqlite, s =>
        {
            s["Callbacks:CommitTimeout"] = "00:00:00.500";
            TestApp.NoReconcile(s);
        });
        var hook = await Kit.SubmitForHookAsync(app, KieProvider.Name);
        var body = Fixture.Load("kie/callback-success.json", hook.ProviderTaskId!);
        Task<HttpResponseMessage> Send() => Kit.PostKieAsync(app, hook, body);

        var refused = await WhileStoreDownAsync(app, Send);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        // The write was queued, so it lands once the lock is gone; the provider's retry is then a duplicate.
        await Wait.UntilAsync(async () => Kit.Ids(await app.Driver.FeedAsync(hook.JobId)), ids => ids.Count == 2, "the late commit");
        var retry = await Send();
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(CallbackOutcomes.Duplicate, Kit.Outcome(await Kit.AckAsync(retry)));
        Assert.Equal([$"{hook.JobId}:submitted", $"{hook.JobId}:completed"], Kit.Ids(await app.Driver.FeedAsync(hook.JobId)));
    }

    private static async Task<T> WhileStoreDownAsync<T>(TestApp app, Func<Task<T>> action)
    {
        if (app.Db == Db.Sqlite)
        {
            await using var locker = new SqliteConnection(app.StorageConnectionString);
            await locker.OpenAsync();
            await ExecuteAsync(locker, "BEGIN EXCLUSIVE");
            try
            {
                return await action();
            }
            finally
            {
                await ExecuteAsync(locker, "ROLLBACK");
            }
        }

        var database = new NpgsqlConnectionStringBuilder(app.StorageConnectionString).Database!;
        var admin = new NpgsqlConnectionStringBuilder(app.StorageConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using var c = new NpgsqlConnection(admin);
        await c.OpenAsync();
        await ExecuteAsync(c, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false");
        try
        {
            await ExecuteAsync(c, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()");
            NpgsqlConnection.ClearAllPools();
            return await action();
        }
        finally
        {
            await ExecuteAsync(c, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
        }
    }

    private static async Task<long> CountAsync(TestApp app, string sql)
    {
        await using DbConnection c = app.Db == Db.Sqlite
            ? new SqliteConnection(app.StorageConnectionString)
            : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(app.StorageConnectionString) { Pooling = false }.ConnectionString);
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DbConnection c, string sql)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }
}
