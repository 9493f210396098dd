using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Providers;

public sealed record ProviderEndpoint(Uri BaseUrl, string ApiKey, TimeSpan Timeout);

/// <summary>
/// Where each provider lives. In the sandbox that is this very process (the simulator is mapped
/// under /sandbox), whose address is only known once the server listens, hence resolved per call.
/// </summary>
public sealed class ProviderEndpoints(IOptions<SandboxOptions> sandbox, SelfAddress self)
{
    public ProviderEndpoint For(IProvider provider)
    {
        var o = provider.Options;
        if (sandbox.Value.Enabled)
        {
            return new ProviderEndpoint(new Uri($"{self.LocalBaseUrl}/sandbox/{provider.Name}/"), SandboxOptions.ApiKeyFor(provider.Name), o.Timeout);
        }
        var baseUrl = o.BaseUrl.EndsWith('/') ? o.BaseUrl : o.BaseUrl + "/";
        return new ProviderEndpoint(new Uri(baseUrl), o.ApiKey ?? "", o.Timeout);
    }
}
