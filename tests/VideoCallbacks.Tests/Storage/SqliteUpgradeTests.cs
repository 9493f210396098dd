using Microsoft.Data.Sqlite;

namespace VideoCallbacks.Tests.Storage;

/// <summary>
/// Storage/Fixtures/created-by-sqlite-core-6.0.0.db was written by the build before the move to
/// Microsoft.Data.Sqlite 10 (commit 69c364b: Microsoft.Data.Sqlite.Core 6.0.0 + SQLitePCLRaw bundle 2.0.6,
/// SQLite 3.35), by running the service in its sandbox and submitting five jobs: Kie completed, Apiframe
/// completed after progress, NanoGPT completed by polling, Kie failed, Apiframe still waiting.
/// </summary>
public sealed class SqliteUpgradeTests
{
    private const string KieCompleted = "job_01a2213bd5597255aab55b65d4ceef39";
    private const string ApiframeCompleted = "job_01a2213bd80a7f01934abf42d07b2ad9";
    private const string KieFailed = "job_01a2213bd92774f6aa2e0435fb0de3f9";
    private const string ApiframeWaiting = "job_01a2213bd99479b2a9907728e1875d6a";

    [Fact]
    public async Task Database_file_created_by_the_old_build_opens_migrates_and_keeps_its_jobs_events_and_callbacks()
    {
        var directory = Path.Combine(Path.GetTempPath(), "vc-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "old.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "created-by-sqlite-core-6.0.0.db"), file);
        try
        {
            // The fixture's jobs were written on 2026-12-05: a give-up deadline of a day would fail the waiting one by date.
            await using (var app = await TestApp.StartAsync(Db.Sqlite, s => s["Reconcile:GiveUpAfter"] = "365.00:00:00", connectionString: $"Data Source={file}"))
            {

                var kie = await (await app.Driver.GetAsync($"/v1/extensions/{KieCompleted}")).JsonAsync();
                Assert.Equal("completed", kie.GetProperty("status").GetString());
                Assert.Equal("order-1", kie.GetProperty("correlationId").GetString());
                Assert.Equal("c1", kie.GetProperty("metadata").GetProperty("customer").GetString());
                Assert.NotEmpty(kie.GetProperty("videoUrls").EnumerateArray());
                Assert.Equal(["video.extension.submitted", "video.extension.completed"],
                    kie.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
                var apiframe = await (await app.Driver.GetAsync($"/v1/extensions/{ApiframeCompleted}")).JsonAsync();
                Assert.Equal("completed", apiframe.GetProperty("status").GetString());
                Assert.Equal("failed", (await (await app.Driver.GetAsync($"/v1/extensions/{KieFailed}")).JsonAsync()).GetProperty("status").GetString());
                Assert.Equal("submitted", (await (await app.Driver.GetAsync($"/v1/extensions/{ApiframeWaiting}")).JsonAsync()).GetProperty("status").GetString());

                var events = await app.Driver.FeedAsync(limit: 100);
                Assert.Equal(12, events.Count);
                Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), events.Select(e => e.Sequence()));
                using var callbacks = await app.Driver.Admin.GetAsync("/v1/admin/callbacks?limit=50");
                Assert.Equal(HttpStatusCode.OK, callbacks.StatusCode);
                Assert.Equal(5, (await callbacks.JsonAsync()).GetProperty("items").GetArrayLength());

                // And it takes new work: the next event continues the old sequence.
                var job = await app.Driver.SubmitAsync(Kie(sourceTaskId: "after-upgrade~nocallback"));
                var next = await app.Driver.WaitForEventsAsync([job.JobId()], "video.extension.submitted");
                Assert.Equal(13, next.Single(e => e.Subject() == job.JobId()).Sequence());
            }

            await using var connection = new SqliteConnection($"Data Source={file};Pooling=false");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT max(version) FROM schema_migrations";
            Assert.Equal((long)Schema.For("x").Max(m => m.Version), (long)(await command.ExecuteScalarAsync())!);
            // The file is now served by the SQLite that Microsoft.Data.Sqlite 10 bundles, not 3.35.
            command.CommandText = "SELECT sqlite_version()";
            var version = Version.Parse((string)(await command.ExecuteScalarAsync())!);
            Assert.True(version >= new Version(3, 50), $"SQLite {version}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }
}
