using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Security;

/// <summary>
/// Limits failed API-key attempts per source address, so keys cannot be guessed at speed and a flood of
/// bad keys costs a log line a minute, not two per request. Past the budget an address's failures get 429 with
/// Retry-After. Only failures count and only failures are refused: a valid key is checked first and always
/// answered, so nobody can lock other clients out (behind a load balancer every client may share one address).
/// The address is the connection's, or the one a configured proxy forwarded (<see cref="Infrastructure.ForwardedHeadersSetup"/>).
/// </summary>
public sealed class FailedAuthThrottle : IDisposable
{
    private const int LogLinesPerMinute = 20;

    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly MinuteBudget _logBudget;
    private readonly ILogger<FailedAuthThrottle> _logger;

    public FailedAuthThrottle(IOptions<RateLimitOptions> options, TimeProvider time, ILogger<FailedAuthThrottle> logger)
    {
        _logger = logger;
        var perMinute = options.Value.FailedAuthPerMinute;
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ =>
            new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
                QueueLimit = 0,
            }));
        _logBudget = new MinuteBudget(() => LogLinesPerMinute, time,
            dropped => logger.LogWarning("{Dropped} more failed API-key attempts were not logged in the last minute (log budget)", dropped));
    }

    /// <summary>Counts one failed attempt; false (with when to come back) when the address is over its budget.</summary>
    public bool TryRecordFailure(string address, string why, out TimeSpan retryAfter)
    {
        using var lease = _limiter.AttemptAcquire(address);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        if (_logBudget.TryTake())
        {
            _logger.LogWarning("Failed API-key authentication from {Address}: {Why}{Throttled}", address, why,
                lease.IsAcquired ? "" : " (throttled)");
        }
        return lease.IsAcquired;
    }

    public void Dispose()
    {
        _limiter.Dispose();
        _logBudget.Dispose();
    }
}
