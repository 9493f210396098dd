using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Tests.Reliability;

/// <summary>
/// Found by the fault suite (scenario 2): while PostgreSQL was down, submissions were answered 500. A database that
/// cannot be reached is a 503 the client may retry, on every endpoint, as callbacks already answered.
/// </summary>
public sealed class DatabaseOutageStatusTests
{
    [Fact]
    public void A_refused_database_connection_is_answered_503()
    {
        var refused = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));

        Assert.Equal(503, Problems.StatusFor(refused));
    }

    [Theory]
    [InlineData("57P01")] // admin_shutdown: the server is stopping
    [InlineData("57P03")] // cannot_connect_now: the server is starting
    [InlineData("08006")] // connection_failure
    public void A_database_going_down_or_coming_up_is_answered_503(string sqlState)
    {
        Assert.Equal(503, Problems.StatusFor(new PostgresException("terminating connection", "FATAL", "FATAL", sqlState)));
    }

    [Fact]
    public void A_database_error_that_is_not_an_outage_stays_a_500()
    {
        // 42601 syntax_error: a bug, not something a retry fixes.
        Assert.Equal(500, Problems.StatusFor(new PostgresException("syntax error", "ERROR", "ERROR", "42601")));
        Assert.Equal(500, Problems.StatusFor(new InvalidOperationException("boom")));
    }

    [Fact]
    public async Task A_store_outage_logs_one_warning_when_it_starts_and_one_with_the_refused_count_when_it_ends()
    {
        // Durable: the fast test server may lose the schema it just committed on an immediate stop.
        var server = await PostgresServer.StartDedicatedAsync(durable: true);
        try
        {
            var logs = new FakeLoggerProvider();
            await using var app = await TestApp.StartAsync(Db.Postgres, services: s => s.AddSingleton<ILoggerProvider>(logs),
                connectionString: await server.NewDatabaseAsync());
            Assert.Equal(HttpStatusCode.OK, (await app.Driver.GetAsync("/v1/events")).StatusCode);

            await server.StopAsync();
            for (var i = 0; i < 10; i++)
            {
                using var refused = await app.Driver.GetAsync("/v1/events");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            }
            await server.StartAgainAsync();
            await Wait.UntilAsync(async () =>
            {
                using var r = await app.Driver.GetAsync("/v1/events");
                return r.StatusCode;
            }, s => s == HttpStatusCode.OK, "the store to be back");

            var lines = logs.Collector.GetSnapshot();
            Assert.DoesNotContain(lines, r => r.Level >= LogLevel.Error);
            var outage = lines.Where(r => r.Category == typeof(StoreOutage).FullName).ToList();
            Assert.Equal(2, outage.Count);
            Assert.All(outage, r => Assert.Equal(LogLevel.Warning, r.Level));
            Assert.Contains("unreachable", outage[0].Message, StringComparison.Ordinal);
            Assert.Contains("reachable again", outage[1].Message, StringComparison.Ordinal);
            var refusedCount = long.Parse(outage[1].StructuredState!.Single(p => p.Key == "Refused").Value!, CultureInfo.InvariantCulture);
            Assert.True(refusedCount >= 10, $"refused count {refusedCount}");
        }
        finally
        {
            server.Destroy();
        }
    }
}
