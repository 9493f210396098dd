using System.ComponentModel.DataAnnotations;

namespace VideoCallbacks.Api.Providers.NanoGpt;

public sealed class NanoGptOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:NanoGpt";
    public NanoGptOptions() => BaseUrl = "https://nano-gpt.com";

    protected override string SectionName => Section;

    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "Providers:NanoGpt:PollInterval must be between {1} and {2}.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Polls in flight at once, across all NanoGPT jobs of this instance.</summary>
    [Range(1, 256, ErrorMessage = "Providers:NanoGpt:PollConcurrency must be between {1} and {2}.")]
    public int PollConcurrency { get; set; } = 8;
}
