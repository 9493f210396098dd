using System.Net;
using System.Net.Sockets;

namespace VideoCallbacks.Testing;

/// <summary>Ports for the servers tests start: the service, PostgreSQL, Redis, fake providers.</summary>
public static class Ports
{
    private static int _nextPort = 20_000 + Random.Shared.Next(0, 10_000);

    /// <summary>
    /// A port nobody is listening on, taken below Linux's ephemeral range (32768+) so an outgoing
    /// connection cannot grab it between this check and the caller's bind; a process-wide counter keeps
    /// parallel tests apart.
    /// </summary>
    public static int Free()
    {
        for (var i = 0; i < 2_000; i++)
        {
            var port = 20_000 + (Interlocked.Increment(ref _nextPort) - 20_000) % 12_000;
            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: try the next one.
            }
        }
        throw new InvalidOperationException("No free port between 20000 and 32000.");
    }
}
