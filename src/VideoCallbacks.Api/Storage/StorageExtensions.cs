using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;
using VideoCallbacks.Api.Bus;
using VideoCallbacks.Api.Infrastructure;
using VideoCallbacks.Api.Jobs;

namespace VideoCallbacks.Api.Storage;

public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    [AllowedValues("Sqlite", "Postgres", ErrorMessage = "Storage:Provider must be 'Sqlite' or 'Postgres'.")]
    public string Provider { get; set; } = "Sqlite";

    [Required(ErrorMessage = "Storage:ConnectionString is required.")]
    public string ConnectionString { get; set; } = "Data Source=data/videocallbacks.db";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? problem = null;
        try
        {
            _ = Provider == "Sqlite"
                ? (System.Data.Common.DbConnectionStringBuilder)new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString)
                : new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The message names the bad keyword, never the password.
            problem = $"Storage:ConnectionString is not a valid {Provider} connection string: {e.Message}";
        }
        if (problem is not null) yield return new ValidationResult(problem, [nameof(ConnectionString)]);
    }
}

public static class StorageExtensions
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<StorageOptions>(configuration, StorageOptions.Section);
        services.AddSingleton<StoreOutage>();
        services.AddSingleton<SqlDatabase>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var settings = new StoreSettings(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<BusOptions>>().Value.PublishedOnCommit)
            {
                Outage = sp.GetRequiredService<StoreOutage>(),
            };
            return options.Provider == "Postgres"
                ? new PostgresDatabase(PostgresDatabase.DataSource(options.ConnectionString), settings)
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
