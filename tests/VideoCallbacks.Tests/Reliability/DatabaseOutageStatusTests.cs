using System.Net.Sockets;
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
}
