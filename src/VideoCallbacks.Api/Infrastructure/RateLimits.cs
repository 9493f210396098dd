using System.Threading.RateLimiting;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Infrastructure;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests per second per API key on the client and admin API.</summary>
    public int PerKeyPerSecond { get; set; } = 50;

    public int PerKeyBurst { get; set; } = 200;

    /// <summary>Callbacks per second per remote address; providers burst, so this is generous.</summary>
    public int CallbacksPerSecond { get; set; } = 20_000;
}

public static class RateLimits
{
    public const string ClientPolicy = "per-key";
    public const string CallbackPolicy = "per-ip-callbacks";

    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, ct) =>
            {
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? Math.Max(1, (int)retry.TotalSeconds) : 1;
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: 429, title: "Too many requests.",
                    detail: $"This client is over its request rate; retry after {seconds} s.").ExecuteAsync(context.HttpContext);
            };
            // Buckets live in Redis when configured (one limit for the whole deployment), else in this instance.
            limiter.AddPolicy(ClientPolicy, http => Buckets(http).Partition(ClientPolicy,
                http.User.KeyId(), new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.PerKeyBurst,
                    TokensPerPeriod = options.PerKeyPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
            limiter.AddPolicy(CallbackPolicy, http => Buckets(http).Partition(CallbackPolicy,
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown", new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.CallbacksPerSecond,
                    TokensPerPeriod = options.CallbacksPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
        });
        return services;
    }

    private static SharedTokenBuckets Buckets(HttpContext http) => http.RequestServices.GetRequiredService<SharedTokenBuckets>();
}
