namespace VideoCallbacks.Api.Infrastructure;

public static class GracefulShutdownExtensions
{
    /// <summary>
    /// Binds <c>HostOptions:ShutdownTimeout</c>: how long SIGTERM's graceful stop may take (Kestrel draining requests,
    /// the ingest writer committing, the relay releasing its claims). Defaults to 25 s so the host is done before
    /// the usual 30 s grace period of Kubernetes / Container Apps ends in a SIGKILL.
    /// </summary>
    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HostOptions>()
            .Configure(o => o.ShutdownTimeout = TimeSpan.FromSeconds(25))
            .Bind(configuration.GetSection("HostOptions"))
            .Validate(o => o.ShutdownTimeout >= TimeSpan.FromSeconds(1) && o.ShutdownTimeout <= TimeSpan.FromMinutes(10),
                "HostOptions:ShutdownTimeout must be between 00:00:01 and 00:10:00.")
            .ValidateOnStart();
        return services;
    }
}
