namespace VideoCallbacks.Api.Providers.Kie;

public sealed class KieOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:Kie";
    public KieOptions() => BaseUrl = "https://api.kie.ai";

    protected override string SectionName => Section;

    /// <summary>With this set, callbacks must carry a valid X-Webhook-Signature.</summary>
    public string? WebhookHmacKey { get; set; }
}
