using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Providers;

public abstract class ProviderEndpointOptions
{
    [Required, Url]
    public string BaseUrl { get; set; } = "";

    public string? ApiKey { get; set; }

    /// <summary>How long we wait for the provider to answer a submission before answering 504.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class KieOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:Kie";
    public KieOptions() => BaseUrl = "https://api.kie.ai";

    /// <summary>With this set, callbacks must carry a valid X-Webhook-Signature.</summary>
    public string? WebhookHmacKey { get; set; }
}

public sealed class ApiframeOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:Apiframe";
    public ApiframeOptions() => BaseUrl = "https://api.apiframe.pro";
}

public sealed class NanoGptOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:NanoGpt";
    public NanoGptOptions() => BaseUrl = "https://nano-gpt.com";

    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Polls in flight at once, across all NanoGPT jobs of this instance.</summary>
    [Range(1, 256)]
    public int PollConcurrency { get; set; } = 8;
}

public sealed class ReconcileOptions
{
    public const string Section = "Reconcile";

    [Range(typeof(TimeSpan), "00:00:00.050", "30.00:00:00")]
    public TimeSpan After { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "00:00:00.100", "365.00:00:00")]
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Upper bound of the backoff between two questions about the same silent job.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromMinutes(10);
}
