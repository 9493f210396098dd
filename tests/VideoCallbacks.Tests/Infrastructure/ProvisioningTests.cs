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
    public void An_npm_package_that_is_there_is_used_and_a_missing_one_is_installed_when_node_and_npm_are()
    {
        const string install = "npm install --no-audit --no-fund --prefix /tmp/x/azurite-3.37.0 azurite@3.37.0";
        Assert.Equal(new ProvisionStep.Use("/tmp/x/azurite-blob"),
            ProvisionStep.DecideNpm("Azurite", "/tmp/x/azurite-blob", node: "/usr/bin/node", npm: null, install, "AZURITE_BLOB"));
        Assert.Equal(new ProvisionStep.Install(install),
            ProvisionStep.DecideNpm("Azurite", found: null, node: "/usr/bin/node", npm: "/usr/bin/npm", install, "AZURITE_BLOB"));
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("/tmp/x/azurite-blob", null, "/usr/bin/npm")]
    [InlineData(null, "/usr/bin/node", null)]
    public void An_npm_package_without_node_or_npm_fails_with_the_exact_command(string? found, string? node, string? npm)
    {
        var step = Assert.IsType<ProvisionStep.Fail>(ProvisionStep.DecideNpm("Azurite", found, node, npm, "npm install azurite", "AZURITE_BLOB"));

        Assert.Contains("sudo apt-get install -y nodejs npm", step.Message, StringComparison.Ordinal);
        Assert.Contains("AZURITE_BLOB", step.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', step.Message);
    }

    [Fact]
    public async Task Azurite_is_installed_at_its_pinned_version_and_answers_http()
    {
        var azurite = await AzuriteServer.GetAsync();
        Assert.Equal($"http://127.0.0.1:{azurite.Port}/devstoreaccount1", azurite.BlobEndpoint);
        Assert.Contains($"BlobEndpoint={azurite.BlobEndpoint};", azurite.ConnectionString, StringComparison.Ordinal);

        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"{azurite.BlobEndpoint}?comp=list"));

        // Listing needs the account key: anonymous is refused, by Azurite itself.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal($"Azurite-Blob/{AzuriteServer.Version}", response.Headers.Server.ToString());
    }

    [Fact]
    public async Task A_dedicated_Azurite_stops_and_starts_again_on_the_same_port_and_workspace()
    {
        await using var azurite = await AzuriteServer.StartDedicatedAsync();
        var (port, location) = (azurite.Port, azurite.Location);
        using var http = new HttpClient();
        var list = new Uri($"{azurite.BlobEndpoint}?comp=list");

        await azurite.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(list));
        await azurite.StartAgainAsync();

        Assert.Equal((port, location), (azurite.Port, azurite.Location));
        using var response = await http.GetAsync(list);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.True(File.Exists(Path.Combine(location, "__azurite_db_blob__.json")), "the blob index is kept across the restart");
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
