using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Callbacks;

public sealed class CallbackOptions : IValidatableObject
{
    public const string Section = "Callbacks";

    /// <summary>Externally reachable base URL used to build the callback URLs handed to providers.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Largest callback body accepted; providers send a few KiB.</summary>
    [Range(1024, 16 * 1024 * 1024, ErrorMessage = "Callbacks:MaxBodyBytes must be between 1 KiB and 16 MiB.")]
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Signed callbacks whose timestamp is older or newer than this are refused as replays (providers that sign with a timestamp).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Callbacks:SignatureTolerance must be between {1} and {2}.")]
    public TimeSpan SignatureTolerance { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Rejected callbacks recorded per minute per instance; beyond that they are only counted, so an attack cannot fill the disk.</summary>
    [Range(0, 100_000, ErrorMessage = "Callbacks:MaxRejectedRecordsPerMinute must be between {1} and {2}.")]
    public int MaxRejectedRecordsPerMinute { get; set; } = 60;

    /// <summary>Longest a provider waits for our answer; past it we say 503 and let it retry (providers time out at 15 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Callbacks:CommitTimeout must be between {1} and {2}.")]
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Callbacks handed to the single writer per transaction (group commit).</summary>
    [Range(1, 10_000, ErrorMessage = "Callbacks:MaxBatch must be between 1 and 10000.")]
    public int MaxBatch { get; set; } = 256;

    /// <summary>Set from the sandbox's options, not from configuration: the sandbox knows this process's own address.</summary>
    internal bool SandboxEnabled { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!SandboxEnabled && string.IsNullOrWhiteSpace(PublicBaseUrl))
        {
            yield return new ValidationResult(
                "Callbacks:PublicBaseUrl is required (the externally reachable base URL providers call back), unless the sandbox is enabled.",
                [nameof(PublicBaseUrl)]);
        }
        if (PublicBaseUrl is not null && !(Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
        {
            yield return new ValidationResult("Callbacks:PublicBaseUrl must be an absolute http(s) URL.", [nameof(PublicBaseUrl)]);
        }
    }
}
