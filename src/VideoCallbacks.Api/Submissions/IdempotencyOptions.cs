using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Submissions;

public sealed class IdempotencyOptions
{
    public const string Section = "Idempotency";

    /// <summary>How long an Idempotency-Key is remembered (as Stripe does, a day); a retry after that is a new request.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Idempotency:Lifetime must be between 00:00:01 and 365.00:00:00.")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(1);
}
