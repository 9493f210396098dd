using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Caching;

/// <summary>
/// <c>Cache:Redis</c>: the shared layer for several instances. Unset <see cref="Configuration"/> means one instance:
/// in-process caches, buckets and wake-ups, as without Redis.
/// </summary>
public sealed class RedisOptions
{
    public const string Section = "Cache:Redis";

    /// <summary>A StackExchange.Redis configuration string (TLS and password go here); a secret, never logged.</summary>
    public string? Configuration { get; set; }

    /// <summary>Every key and channel starts with this, so one Redis can serve several deployments.</summary>
    [Required, MinLength(1), MaxLength(100)]
    public string Prefix { get; set; } = "videocallbacks:";

    /// <summary>The longest any request waits on Redis before carrying on without it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:05")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(50);

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);
}
