namespace VideoCallbacks.Tests.Infrastructure;

/// <summary>The test kit brings the servers it needs onto a fresh machine, or says exactly what to run; it never skips.</summary>
public sealed class ProvisioningTests
{
    [Fact]
    public void A_binary_that_is_there_is_used()
    {
        Assert.Equal(new ProvisionStep.Use("/usr/bin/redis-server"),
            ProvisionStep.Decide("redis-server", "/usr/bin/redis-server", root: false, hasAptGet: false, "redis-server", "REDIS_SERVER"));
    }

    [Fact]
    public void A_missing_binary_is_installed_when_the_process_is_root_with_apt_get()
    {
        Assert.Equal(new ProvisionStep.Install("apt-get install -y redis-server"),
            ProvisionStep.Decide("redis-server", found: null, root: true, hasAptGet: true, "redis-server", "REDIS_SERVER"));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void A_missing_binary_that_cannot_be_installed_fails_with_the_exact_command(bool root, bool hasAptGet)
    {
        var step = Assert.IsType<ProvisionStep.Fail>(ProvisionStep.Decide("redis-server", null, root, hasAptGet, "redis-server", "REDIS_SERVER"));

        Assert.Contains("sudo apt-get install -y redis-server", step.Message, StringComparison.Ordinal);
        Assert.Contains("REDIS_SERVER", step.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', step.Message);
    }

    [Fact]
    public void The_override_variable_comes_before_the_usual_places()
    {
        var variable = $"VC_TEST_BINARY_{Guid.NewGuid():N}";
        var file = Path.GetTempFileName();
        try
        {
            Environment.SetEnvironmentVariable(variable, file);
            Assert.Equal(file, Provisioning.FindFile("no-such-binary-anywhere", variable, "/nonexistent/no-such-binary-anywhere"));
            Environment.SetEnvironmentVariable(variable, null);
            Assert.Null(Provisioning.FindFile("no-such-binary-anywhere", variable, "/nonexistent/no-such-binary-anywhere"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Redis_and_PostgreSQL_are_found_or_installed_and_start()
    {
        var redisBinary = await Provisioning.EnsureAsync("redis-server", "redis-server", "REDIS_SERVER",
            () => Provisioning.FindFile("redis-server", "REDIS_SERVER", "/usr/bin/redis-server"));
        Assert.True(File.Exists(redisBinary));
        await using (var redis = await RedisServer.StartAsync())
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", redis.Port);
            Assert.True(tcp.Connected);
        }

        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT 1", connection);
        Assert.Equal(1, await command.ExecuteScalarAsync());
    }
}
