using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Caching;
using VideoCallbacks.Api.Security;

namespace VideoCallbacks.Api.Infrastructure;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests per second per API key on the client and admin API.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimits:PerKeyPerSecond must be a whole number of at least 1.")]
    public int PerKeyPerSecond { get; set; } = 50;

    [Range(1, int.MaxValue, ErrorMessage = "RateLimits:PerKeyBurst must be a whole number of at least 1.")]
    public int PerKeyBurst { get; set; } = 200;

    /// <summary>Callbacks per second per remote address; providers burst, so this is generous.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimits:CallbacksPerSecond must be a whole number of at least 1.")]
    public int CallbacksPerSecond { get; set; } = 20_000;

    /// <summary>Requests with a missing or wrong API key per source address per minute before it gets 429.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int FailedAuthPerMinute { get; set; } = 60;
}

public static class RateLimits
{
    public const string ClientPolicy = "per-key";
    public const string CallbackPolicy = "per-ip-callbacks";

    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<RateLimitOptions>(configuration, RateLimitOptions.Section);
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
                    TokenLimit = Options(http).PerKeyBurst,
                    TokensPerPeriod = Options(http).PerKeyPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
            limiter.AddPolicy(CallbackPolicy, http => Buckets(http).Partition(CallbackPolicy,
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown", new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Options(http).CallbacksPerSecond,
                    TokensPerPeriod = Options(http).CallbacksPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
        });
        return services;
    }

    // Read when a partition's bucket is first made, from the validated options.
    private static RateLimitOptions Options(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
    private static SharedTokenBuckets Buckets(HttpContext http) => http.RequestServices.GetRequiredService<SharedTokenBuckets>();
}
