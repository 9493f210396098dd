using Microsoft.Extensions.Options;
using Npgsql;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    public string Provider { get; set; } = "Sqlite";

    public string ConnectionString { get; set; } = "Data Source=data/videocallbacks.db";
}

public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        if (o.Provider is not ("Sqlite" or "Postgres"))
        {
            return ValidateOptionsResult.Fail($"Storage:Provider must be 'Sqlite' or 'Postgres', not '{o.Provider}'.");
        }
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            return ValidateOptionsResult.Fail("Storage:ConnectionString is required.");
        }
        try
        {
            _ = o.Provider == "Sqlite"
                ? (System.Data.Common.DbConnectionStringBuilder)new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(o.ConnectionString)
                : new NpgsqlConnectionStringBuilder(o.ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The message names the bad keyword, never the password.
            return ValidateOptionsResult.Fail($"Storage:ConnectionString is not a valid {o.Provider} connection string: {e.Message}");
        }
        return ValidateOptionsResult.Success;
    }
}

public static class StorageExtensions
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<SqlDatabase>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var settings = new StoreSettings(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<BusOptions>>().Value.PublishedOnCommit);
            return options.Provider == "Postgres"
                ? new PostgresDatabase(new NpgsqlDataSourceBuilder(options.ConnectionString).Build(), settings)
                : new SqliteDatabase(options.ConnectionString, settings);
        });
        // The shared domain's one read, used by several features.
        services.AddSingleton<JobReader>();
        services.AddHostedService<MigrationService>();
        return services;
    }
}

/// <summary>Brings the schema up to date before the server takes requests.</summary>
public sealed class MigrationService(SqlDatabase database, ILogger<MigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await database.MigrateAsync(cancellationToken);
        logger.LogInformation("{Store} store schema is up to date", database.Name);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
