namespace VideoCallbacks.Tests.Submission;

public sealed class RestartTests
{
    [Theory, BothDatabases]
    public async Task Jobs_and_events_survive_a_restart(Db db)
    {
        // The SQLite file lives in a folder this test owns, so disposing the first app does not delete it.
        var folder = Path.Combine(Path.GetTempPath(), "vc-tests", "restart-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var connectionString = db == Db.Postgres
                ? await PostgresServer.CreateDatabaseAsync()
                : $"Data Source={Path.Combine(folder, "restart.db")}";

            string jobId;
            string firstJobJson;
            await using (var first = await TestApp.StartAsync(db, connectionString: connectionString))
            {
                var client = first.Driver;
                var job = await client.SubmitAsync(Apiframe(sourceTaskId: "restart-src~never~progress=0", index: 2), idempotencyKey: "restart-1");
                jobId = job.JobId();
                firstJobJson = await client.Http.GetStringAsync($"/v1/extensions/{jobId}");
            }

            await using var second = await TestApp.StartAsync(db, connectionString: connectionString);
            var again = second.Driver;
            using var response = await again.GetAsync($"/v1/extensions/{jobId}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var restored = await response.JsonAsync();
            var original = System.Text.Json.JsonDocument.Parse(firstJobJson).RootElement;
            foreach (var field in new[] { "jobId", "provider", "providerTaskId", "createdAt" })
            {
                Assert.Equal(original.GetProperty(field).GetString(), restored.GetProperty(field).GetString());
            }
            Assert.Equal(original.GetProperty("events")[0].GetRawText(), restored.GetProperty("events")[0].GetRawText());
            Assert.Contains(await again.FeedAsync(limit: 100), e => e.Subject() == jobId && e.Type() == "video.extension.submitted");

            // The idempotency key survived too: the same request is the same job, not a second submission.
            var replay = await again.SubmitAsync(Apiframe(sourceTaskId: "restart-src~never~progress=0", index: 2), idempotencyKey: "restart-1");
            Assert.Equal(jobId, replay.JobId());
            Assert.Empty(second.Received(ApiframeSubmitPath));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
