namespace VideoCallbacks.Simulator;

/// <summary>Keys and pacing of the provider simulator.</summary>
public sealed class SimulatorOptions
{
    public string KieApiKey { get; set; } = "sim-kie-key";

    public string ApiframeApiKey { get; set; } = "sim-apiframe-key";

    public string NanoGptApiKey { get; set; } = "sim-nanogpt-key";

    /// <summary>When set, Kie callbacks carry <c>X-Webhook-Timestamp</c> / <c>X-Webhook-Signature</c>.</summary>
    public string? KieWebhookHmacKey { get; set; }

    /// <summary>Time from submission to the first callback (and, for Kie, to completion).</summary>
    public TimeSpan CallbackDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// When set, callbacks go only to URLs it accepts; others are recorded as undelivered and never sent. The
    /// simulator takes callback URLs from whoever submits, so a host exposing it must not let it POST anywhere.
    /// </summary>
    public Func<string, bool>? CallbackUrlAllowed { get; set; }

    /// <summary>Time between Apiframe progress updates.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Base of the result URLs, normally the simulator's own CDN (<c>{server}{prefix}/cdn</c>); asked once per task, as
    /// a host knows its address only once it listens. Null uses <c>https://cdn.simulator.invalid</c>, which never
    /// resolves, so nothing downloads by accident.
    /// </summary>
    public Func<string>? CdnBaseUrl { get; set; }
}
