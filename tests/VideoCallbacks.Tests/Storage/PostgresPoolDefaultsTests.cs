using Npgsql;
using VideoCallbacks.Api.Storage;

namespace VideoCallbacks.Tests.Storage;

/// <summary>The pool settings the service adds to an operator's PostgreSQL connection string, and that the operator's own win.</summary>
public sealed class PostgresPoolDefaultsTests
{
    [Fact]
    public void Statements_are_prepared_and_connections_are_not_reset_on_return_by_default()
    {
        using var source = PostgresDatabase.DataSource("Host=db.example;Database=vc;Username=vc");
        var settings = new NpgsqlConnectionStringBuilder(source.ConnectionString);

        Assert.Equal(32, settings.MaxAutoPrepare);
        Assert.True(settings.NoResetOnClose);
        Assert.Equal("db.example", settings.Host);
    }

    [Theory]
    [InlineData("Host=db.example;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=db.example;MaxAutoPrepare=0;NoResetOnClose=false")]
    public void The_operators_own_values_win_however_they_are_spelled(string connectionString)
    {
        using var source = PostgresDatabase.DataSource(connectionString);
        var settings = new NpgsqlConnectionStringBuilder(source.ConnectionString);

        Assert.Equal(0, settings.MaxAutoPrepare);
        Assert.False(settings.NoResetOnClose);
    }
}
