using System.Net;
using System.Net.Sockets;
using VideoCallbacks.Tests.Infrastructure;

namespace VideoCallbacks.Tests.Relay;

/// <summary>
/// A TCP forwarder on a fixed local port in front of another local server. <see cref="CloseAsync"/> stops listening and
/// drops live connections, so clients get "connection refused"; <see cref="Open"/> listens on the same port again.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task _accepting = Task.CompletedTask;

    private TcpProxy(int port, int targetPort)
    {
        Port = port;
        _targetPort = targetPort;
    }

    public int Port { get; }

    /// <summary>
    /// Connections whose client has sent bytes that the server has not answered yet: with HTTP/1.1, requests in flight.
    /// </summary>
    public int AwaitingAnswers => Volatile.Read(ref _awaitingAnswers);

    private int _awaitingAnswers;

    /// <summary>A listening proxy on a free port that forwards to <c>127.0.0.1:<paramref name="targetPort"/></c>.</summary>
    public static TcpProxy Start(int targetPort)
    {
        var proxy = new TcpProxy(PostgresServer.FreePort(), targetPort);
        proxy.Open();
        return proxy;
    }

    /// <summary>Starts accepting connections on <see cref="Port"/>.</summary>
    public void Open()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return;
            }

            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _stop = new CancellationTokenSource();
            _accepting = AcceptAsync(listener, _stop.Token);
        }
    }

    /// <summary>Stops listening and cuts every open connection: from now on connections are refused.</summary>
    public async Task CloseAsync()
    {
        TcpListener? listener;
        CancellationTokenSource? stop;
        Task accepting;
        List<TcpClient> open;
        lock (_gate)
        {
            (listener, stop, accepting) = (_listener, _stop, _accepting);
            _listener = null;
            _stop = null;
            open = [.. _connections];
            _connections.Clear();
        }

        if (listener is null)
        {
            return;
        }

        await stop!.CancelAsync();
        listener.Stop();
        foreach (var connection in open)
        {
            connection.Dispose();
        }

        try
        {
            await accepting;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = PumpAsync(client, ct);
        }
    }

    private async Task PumpAsync(TcpClient client, CancellationToken ct)
    {
        var upstream = new TcpClient();
        lock (_gate)
        {
            _connections.Add(client);
            _connections.Add(upstream);
        }

        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, ct);
            var fromClient = client.GetStream();
            var fromServer = upstream.GetStream();
            var exchange = new Exchange();
            // Either direction ending (or the proxy closing) ends the pair.
            await Task.WhenAny(
                CopyAsync(fromClient, fromServer, () => exchange.Asked(this), ct),
                CopyAsync(fromServer, fromClient, () => exchange.Answered(this), ct));
            exchange.Answered(this);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            lock (_gate)
            {
                _connections.Remove(client);
                _connections.Remove(upstream);
            }

            client.Dispose();
            upstream.Dispose();
        }
    }

    private static async Task CopyAsync(NetworkStream from, NetworkStream to, Action onData, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, ct)) > 0)
        {
            onData();
            await to.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    /// <summary>Whether one connection is waiting for an answer (HTTP/1.1: one request at a time per connection).</summary>
    private sealed class Exchange
    {
        private int _waiting;

        public void Asked(TcpProxy proxy)
        {
            if (Interlocked.Exchange(ref _waiting, 1) == 0)
            {
                Interlocked.Increment(ref proxy._awaitingAnswers);
            }
        }

        public void Answered(TcpProxy proxy)
        {
            if (Interlocked.Exchange(ref _waiting, 0) == 1)
            {
                Interlocked.Decrement(ref proxy._awaitingAnswers);
            }
        }
    }
}
