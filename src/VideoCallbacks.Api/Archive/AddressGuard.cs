using System.Net;
using System.Net.Sockets;

namespace VideoCallbacks.Api.Archive;

/// <summary>
/// Which addresses a download may connect to. Checked on the address actually connected to (after DNS, on every
/// redirect hop), so a public name that resolves to a private address cannot reach the service's own network.
/// </summary>
public static class AddressGuard
{
    /// <summary>Null when the address is public; else why it is refused.</summary>
    public static string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return "loopback";
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b switch
            {
                [0, ..] => "unspecified",
                [10, ..] => "private",
                [100, >= 64 and <= 127, ..] => "shared (carrier-grade NAT)",
                [169, 254, ..] => "link-local (cloud metadata lives here)",
                [172, >= 16 and <= 31, ..] => "private",
                [192, 0, 0, ..] => "IETF protocol assignments",
                [192, 168, ..] => "private",
                [198, 18 or 19, ..] => "benchmarking",
                [>= 224 and <= 239, ..] => "multicast",
                [>= 240, ..] => "reserved",
                _ => null,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)) return "unspecified";
            if (address.IsIPv6LinkLocal) return "link-local";
            if (address.IsIPv6SiteLocal) return "site-local";
            if (address.IsIPv6Multicast) return "multicast";
            var b = address.GetAddressBytes();
            if ((b[0] & 0xFE) == 0xFC) return "unique-local";
            // NAT64 (64:ff9b::/96) carries an IPv4 address: judge that one.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) return Refusal(new IPAddress(b[12..16]));
            return null;
        }
        return "not an IP address";
    }
}

/// <summary>The download was refused before any byte was sent (a private address).</summary>
public sealed class RefusedAddressException(string message) : Exception(message);
