namespace VideoCallbacks.Api.Providers.Apiframe;

public sealed class ApiframeOptions : ProviderEndpointOptions
{
    public const string Section = "Providers:Apiframe";
    public ApiframeOptions() => BaseUrl = "https://api.apiframe.pro";

    protected override string SectionName => Section;
}
