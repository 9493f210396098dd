using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Infrastructure;

namespace VideoCallbacks.Api.Archive;

/// <summary>The durable URL of a stored video: <c>{Archive:PublicBaseUrl or Callbacks:PublicBaseUrl}/v1/extensions/{jobId}/videos/{index}</c>.</summary>
public sealed class DurableUrls(IOptions<ArchiveOptions> options, SelfAddress self)
{
    public string For(string jobId, int index) =>
        $"{(options.Value.PublicBaseUrl?.TrimEnd('/') ?? self.PublicBaseUrl)}/v1/extensions/{Uri.EscapeDataString(jobId)}/videos/{index}";
}
