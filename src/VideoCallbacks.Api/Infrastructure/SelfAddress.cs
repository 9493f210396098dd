using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using VideoCallbacks.Api.Callbacks;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>This process's own addresses: where providers call back, and where the sandbox lives.</summary>
public sealed class SelfAddress(IServer server, IOptions<CallbackOptions> callbacks)
{
    /// <summary>The externally reachable base URL (configured), or this process's own address in the sandbox.</summary>
    public string PublicBaseUrl => callbacks.Value.PublicBaseUrl?.TrimEnd('/') ?? LocalBaseUrl;

    public string LocalBaseUrl
    {
        get
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
            var address = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses?.FirstOrDefault()
                ?? throw new InvalidOperationException("The server is not listening yet, so its own address is unknown.");
            // Wildcard bindings are not addresses one can call.
            return address.Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://*", "://localhost", StringComparison.Ordinal)
                .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
                .Replace("://[::]", "://localhost", StringComparison.Ordinal)
                .TrimEnd('/');
        }
    }
}

public sealed class SandboxOptions
{
    public const string Section = "Sandbox";

    public bool Enabled { get; set; }

    /// <summary>
    /// The sandbox outside Development hands anyone who can reach it fake providers; the service refuses to start
    /// that way unless this deliberately long-named switch is on (e.g. a shared test environment).
    /// </summary>
    public bool UnsafeAllowOutsideDevelopment { get; set; }

    public static string ApiKeyFor(string provider) => $"sim-{provider}-key";
}
