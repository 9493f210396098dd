using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace VideoCallbacks.Api.Archive;

/// <summary>
/// One budget of bytes per second shared by every download of this instance (<c>Archive:MaxBytesPerSecond</c>, 0: none).
/// Archiving is background work: unbounded, a few fast downloads take the cores and the disk from callback ingest
/// (measured in docs/benchmarks.md). A token bucket from System.Threading.RateLimiting, in KiB, refilled every 100 ms.
/// </summary>
public sealed class ArchiveBandwidth : IDisposable
{
    private const int Unit = 1024;
    private readonly TokenBucketRateLimiter? _limiter;
    private readonly int _limit;

    public ArchiveBandwidth(IOptions<ArchiveOptions> options)
    {
        var perSecond = options.Value.MaxBytesPerSecond;
        if (perSecond <= 0) return;
        var perTick = (int)Math.Clamp(perSecond / Unit / 10, 1, int.MaxValue);
        // At least one whole read (the downloader's buffer is at most 128 KiB) must fit in the bucket.
        _limit = Math.Max(perTick, 128);
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = _limit,
            TokensPerPeriod = perTick,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    /// <summary>Waits until <paramref name="bytes"/> more may be read.</summary>
    public async ValueTask TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        if (_limiter is null || bytes <= 0) return;
        var units = Math.Min(_limit, (bytes + Unit - 1) / Unit);
        using var lease = await _limiter.AcquireAsync(units, cancellationToken);
    }

    public void Dispose() => _limiter?.Dispose();
}
