namespace VideoCallbacks.Api.Callbacks;

public sealed class CallbackOptions
{
    public const string Section = "Callbacks";

    /// <summary>Externally reachable base URL used to build the callback URLs handed to providers.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Largest callback body accepted; providers send a few KiB.</summary>
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Kie signatures older or newer than this are refused as replays.</summary>
    public TimeSpan SignatureTolerance { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Rejected callbacks recorded per minute per instance; beyond that they are only counted, so an attack cannot fill the disk.</summary>
    public int MaxRejectedRecordsPerMinute { get; set; } = 60;

    /// <summary>Longest a provider waits for our answer; past it we say 503 and let it retry (providers time out at 15 s).</summary>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Callbacks handed to the single writer per transaction (group commit).</summary>
    public int MaxBatch { get; set; } = 256;
}
