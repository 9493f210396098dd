using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace VideoCallbacks.TestBroker;

/// <summary>
/// A local AMQP 1.0 broker that speaks enough Service Bus for the unmodified <c>Azure.Messaging.ServiceBus</c> SDK,
/// built on the listener side of <c>Microsoft.Azure.Amqp</c> (after <c>Azure/azure-amqp</c>'s TestAmqpBroker).
/// One topic with subscriptions; SAS checked on <c>$cbs</c>; <c>max-message-size</c> advertised; batches decoded;
/// duplicate detection by MessageId; every message and transfer recorded; faults injected on demand; stop and
/// restart on the same port. Clients connect with <see cref="ConnectionString"/> (<c>UseDevelopmentEmulator=true</c>:
/// no TLS). Not the real service: no <c>$management</c>, sessions, filters, TTL or lock expiry.
/// </summary>
/// <remarks>Over 300 lines because the AMQP plumbing (listener, $cbs, send and receive links) only makes sense together.</remarks>
public sealed class LocalServiceBus : IRuntimeProvider, IAsyncDisposable
{
    private const uint BatchFormat = 0x80013700;
    private static int _nextPort = 15_000 + Random.Shared.Next(0, 4_000);

    private readonly LocalServiceBusOptions _options;
    private readonly Lock _gate = new();
    private readonly List<BrokerMessage> _messages = [];
    private readonly List<BrokerTransfer> _transfers = [];
    private readonly Dictionary<string, DateTimeOffset> _seenIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<AmqpConnection> _connections = [];
    private readonly ConditionalWeakTable<AmqpConnection, HashSet<string>> _authorized = [];
    private readonly ConditionalWeakTable<AmqpConnection, StrongBox<int>> _connectionNumbers = [];
    private readonly List<AmqpMessage> _unsettled = [];
    private BrokerFault? _standingFault;
    private readonly Queue<BrokerFault> _nextFaults = new();
    private AmqpTransportListener? _listener;
    private AmqpSettings? _settings;
    private long _sequence;
    private int _duplicates;
    private int _refusedTokens;
    private int _connectionCount;

    private LocalServiceBus(LocalServiceBusOptions options)
    {
        _options = options;
        foreach (var name in options.Subscriptions)
        {
            _subscriptions[name] = new Subscription(this, name);
        }
    }

    public int Port { get; private set; }

    public string KeyName => _options.KeyName;

    public string Key => _options.Key;

    public string Topic => _options.Topic;

    public bool IsRunning => _listener is not null;

    /// <summary>What the service is given: the broker's endpoint, the SAS key, no TLS.</summary>
    public string ConnectionString => ConnectionStringWithKey(Key);

    public string ConnectionStringWithKey(string key) => ConnectionStringFor(Port, key);

    /// <summary>The same credentials aimed at another port (a proxy in front of this broker).</summary>
    public string ConnectionStringFor(int port, string? key = null) => string.Create(CultureInfo.InvariantCulture,
        $"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName={KeyName};SharedAccessKey={key ?? Key};UseDevelopmentEmulator=true");

    /// <summary>Messages the topic kept, in the order it stored them (re-sends dropped by duplicate detection are not here).</summary>
    public IReadOnlyList<BrokerMessage> Messages
    {
        get { lock (_gate) { return [.. _messages]; } }
    }

    /// <summary>Every transfer clients made to the topic, whatever became of it.</summary>
    public IReadOnlyList<BrokerTransfer> Transfers
    {
        get { lock (_gate) { return [.. _transfers]; } }
    }

    /// <summary>Messages accepted but not stored because their MessageId was seen within the window.</summary>
    public int DuplicatesDropped => Volatile.Read(ref _duplicates);

    /// <summary>put-token requests answered 401.</summary>
    public int RefusedTokens => Volatile.Read(ref _refusedTokens);

    /// <summary>Connections accepted since start (restarts included).</summary>
    public int ConnectionsAccepted => Volatile.Read(ref _connectionCount);

    public static async Task<LocalServiceBus> StartAsync(Action<LocalServiceBusOptions>? configure = null)
    {
        var options = new LocalServiceBusOptions();
        configure?.Invoke(options);
        var broker = new LocalServiceBus(options);
        for (var attempt = 1; ; attempt++)
        {
            broker.Port = options.Port != 0 ? options.Port : NextPort();
            try
            {
                broker.Listen();
                return broker;
            }
            catch (Exception e) when (options.Port == 0 && attempt < 20 && e is SocketException or AmqpException or IOException)
            {
                // Someone took the port between the probe and the bind: try another.
                await Task.Yield();
            }
        }
    }

    /// <summary>Delivers a stored message to every subscription once more, as the service does after a lost lock.</summary>
    public void Redeliver(string messageId)
    {
        var message = Messages.Single(m => m.MessageId == messageId);
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Enqueue(message);
        }
    }

    /// <summary>Messages of <paramref name="subscription"/> not yet completed (available or locked by a receiver).</summary>
    public int Outstanding(string subscription) => _subscriptions[subscription].Outstanding;

    // ------------------------------------------------------------------ faults

    /// <summary>Every transfer (and put-token, for Unauthorized) meets <paramref name="fault"/> until <see cref="ClearFaults"/>.</summary>
    public void FailUntilCleared(BrokerFault fault)
    {
        lock (_gate) { _standingFault = fault; }
    }

    /// <summary>The next <paramref name="count"/> transfers meet <paramref name="fault"/>, then the broker behaves again.</summary>
    public void FailNext(BrokerFault fault, int count = 1)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++) _nextFaults.Enqueue(fault);
        }
    }

    /// <summary>Clears armed faults and settles nothing that was left unsettled (those sends already timed out).</summary>
    public void ClearFaults()
    {
        lock (_gate)
        {
            _standingFault = null;
            _nextFaults.Clear();
        }
    }

    private BrokerFault? TakeFault(bool forToken)
    {
        lock (_gate)
        {
            if (forToken)
            {
                return _standingFault == BrokerFault.Unauthorized || (_nextFaults.TryPeek(out var f) && f == BrokerFault.Unauthorized)
                    ? BrokerFault.Unauthorized : null;
            }

            return _nextFaults.TryDequeue(out var next) ? next : _standingFault;
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /// <summary>Stops listening and drops every connection; what the topic holds is kept.</summary>
    public Task StopAsync()
    {
        _listener?.Close();
        _listener = null;
        AmqpConnection[] open;
        lock (_gate)
        {
            open = [.. _connections];
            _connections.Clear();
        }

        foreach (var c in open)
        {
            c.Abort();
        }

        return Task.CompletedTask;
    }

    /// <summary>Listens again on the same port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Listen();
                return;
            }
            catch (Exception e) when (attempt < 50 && e is SocketException or AmqpException or IOException)
            {
                // The old socket may take a moment to let go of the port.
                await Task.Delay(100);
            }
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Its own range, 15000-19999, below the test kit's <c>Ports</c> (20000+): the broker does not depend on the kit.</summary>
    private static int NextPort()
    {
        for (var i = 0; i < 2_000; i++)
        {
            var port = 15_000 + (Interlocked.Increment(ref _nextPort) - 15_000) % 5_000;
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: next.
            }
        }

        throw new InvalidOperationException("No free port for the local Service Bus broker.");
    }

    private void Listen()
    {
        var settings = new AmqpSettings { RuntimeProvider = this };
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        // The SDK offers only MSSBCBS: authentication really happens on $cbs.
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(amqp);
        var tcp = new TcpTransportSettings { Host = "127.0.0.1", Port = Port };
        var listener = new AmqpTransportListener([tcp.CreateListener()], settings);
        listener.Listen(OnAcceptTransport);
        _settings = settings;
        _listener = listener;
    }

    private void OnAcceptTransport(TransportListener listener, TransportAsyncCallbackArgs args)
    {
        var connectionSettings = new AmqpConnectionSettings { ContainerId = "local-servicebus", MaxFrameSize = 64 * 1024, IdleTimeOut = 4 * 60 * 1000 };
        AmqpConnection? connection = null;
        try
        {
            connection = new AmqpConnection(args.Transport, (ProtocolHeader)args.UserToken, false, _settings!, connectionSettings);
            var number = Interlocked.Increment(ref _connectionCount);
            _connectionNumbers.Add(connection, new StrongBox<int>(number));
            connection.Closed += (s, _) =>
            {
                lock (_gate) { _connections.Remove((AmqpConnection)s!); }
            };
            lock (_gate) { _connections.Add(connection); }
            connection.BeginOpen(AmqpConstants.DefaultTimeout, r =>
            {
                try
                {
                    connection.EndOpen(r);
                }
                catch (Exception e) when (e is AmqpException or IOException or TimeoutException or OperationCanceledException or ObjectDisposedException)
                {
                    connection.SafeClose(e);
                }
            }, null);
        }
        catch (Exception e) when (e is AmqpException or IOException or InvalidOperationException)
        {
            connection?.SafeClose(e);
        }
    }

    // ------------------------------------------------------------------ IRuntimeProvider

    public AmqpConnection CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
        new(transport, protocolHeader, false, amqpSettings, connectionSettings);

    public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) => throw new InvalidOperationException();

    public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        if (settings.Role == true)
        {
            // The broker receives: the client sends. Without max-message-size the SDK refuses to build a batch.
            settings.MaxMessageSize = _options.MaxMessageSize;
            return new ReceivingAmqpLink(session, settings);
        }

        return new SendingAmqpLink(session, settings);
    }

    public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        var address = (link.IsReceiver ? ((Target)link.Settings.Target).Address : ((Source)link.Settings.Source).Address)?.ToString()
            ?? throw new AmqpException(AmqpErrorCode.InvalidField, "Address not set");
        var path = address.Trim('/');
        if (path == "$cbs")
        {
            AttachCbs(link);
        }
        else
        {
            if (!IsAuthorized(link.Session.Connection, path))
            {
                throw new AmqpException(AmqpErrorCode.UnauthorizedAccess, $"No valid token was put for '{path}' on this connection.");
            }

            lock (_gate)
            {
                if (_standingFault == BrokerFault.EntityNotFound)
                {
                    throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{path}' could not be found (injected).");
                }
            }

            if (link.IsReceiver && string.Equals(path, Topic, StringComparison.OrdinalIgnoreCase))
            {
                var receiver = (ReceivingAmqpLink)link;
                receiver.RegisterMessageListener(m => OnTopicMessage(receiver, m));
                receiver.SetTotalLinkCredit(1000, true, true);
            }
            else if (!link.IsReceiver && SubscriptionOf(path) is { } subscription)
            {
                subscription.Attach((SendingAmqpLink)link);
            }
            else
            {
                throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{path}' could not be found.");
            }
        }

        var result = new CompletedResult(state);
        callback(result);
        return result;
    }

    public void EndOpenLink(IAsyncResult result)
    {
    }

    private Subscription? SubscriptionOf(string path)
    {
        var parts = path.Split('/');
        return parts.Length == 3 && string.Equals(parts[0], Topic, StringComparison.OrdinalIgnoreCase)
            && string.Equals(parts[1], "Subscriptions", StringComparison.OrdinalIgnoreCase)
            && _subscriptions.TryGetValue(parts[2], out var s) ? s : null;
    }

    // ------------------------------------------------------------------ $cbs

    private readonly Dictionary<string, SendingAmqpLink> _cbsReplies = new(StringComparer.Ordinal);

    private void AttachCbs(AmqpLink link)
    {
        if (link.IsReceiver)
        {
            var receiver = (ReceivingAmqpLink)link;
            receiver.RegisterMessageListener(m => OnPutToken(receiver, m));
            receiver.SetTotalLinkCredit(100, true, true);
            return;
        }

        var replyTo = ((Target)link.Settings.Target).Address?.ToString() ?? "";
        lock (_gate) { _cbsReplies[replyTo] = (SendingAmqpLink)link; }
        link.SafeAddClosed((_, _) =>
        {
            lock (_gate) { _cbsReplies.Remove(replyTo); }
        });
    }

    private void OnPutToken(ReceivingAmqpLink link, AmqpMessage request)
    {
        using (request)
        {
            link.AcceptMessage(request, false);
            var replyTo = request.Properties?.ReplyTo?.ToString();
            SendingAmqpLink? reply;
            lock (_gate) { reply = replyTo is null ? null : _cbsReplies.GetValueOrDefault(replyTo); }
            if (reply is null)
            {
                return;
            }

            var props = request.ApplicationProperties.Map;
            var audience = props["name"]?.ToString() ?? "";
            var type = props["type"]?.ToString() ?? "";
            var token = request.ValueBody?.Value as string ?? "";
            var (status, description) = TakeFault(forToken: true) == BrokerFault.Unauthorized
                ? (401, "InvalidSignature: the token is not valid (injected).")
                : type != "servicebus.windows.net:sastoken"
                    ? (401, "Only SAS tokens are accepted by the local broker.")
                    : CheckSas(token);
            if (status == 200)
            {
                var path = PathOf(audience);
                var granted = _authorized.GetValue(link.Session.Connection, _ => new HashSet<string>(StringComparer.OrdinalIgnoreCase));
                lock (granted) { granted.Add(path); }
            }
            else
            {
                Interlocked.Increment(ref _refusedTokens);
            }

            var response = AmqpMessage.Create();
            response.Properties.CorrelationId = request.Properties!.MessageId;
            response.ApplicationProperties.Map["status-code"] = status;
            response.ApplicationProperties.Map["status-description"] = description;
            response.Settled = true;
            reply.SendMessageNoWait(response, AmqpConstants.EmptyBinary, AmqpConstants.NullBinary);
        }
    }

    /// <summary>Checks <c>SharedAccessSignature sr=..&amp;sig=..&amp;se=..&amp;skn=..</c> against the broker's key.</summary>
    private (int Status, string Description) CheckSas(string token)
    {
        const string prefix = "SharedAccessSignature ";
        if (!token.StartsWith(prefix, StringComparison.Ordinal))
        {
            return (401, "InvalidToken: not a shared access signature.");
        }

        var fields = token[prefix.Length..].Split('&')
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (!fields.TryGetValue("sr", out var sr) || !fields.TryGetValue("sig", out var sig) || !fields.TryGetValue("se", out var se) || !fields.TryGetValue("skn", out var skn))
        {
            return (401, "InvalidToken: sr, sig, se and skn are required.");
        }

        if (!string.Equals(WebUtility.UrlDecode(skn), KeyName, StringComparison.Ordinal))
        {
            return (401, "InvalidSignature: unknown key name.");
        }

        // The signature covers the URL-encoded resource and the expiry, as the SDK writes them.
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.UTF8.GetBytes(sr + "\n" + WebUtility.UrlDecode(se)));
        byte[] actual;
        try
        {
            actual = Convert.FromBase64String(WebUtility.UrlDecode(sig));
        }
        catch (FormatException)
        {
            return (401, "InvalidSignature: the signature is not base64.");
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            return (401, "InvalidSignature: The token has an invalid signature.");
        }

        if (!long.TryParse(WebUtility.UrlDecode(se), NumberStyles.Integer, CultureInfo.InvariantCulture, out var expiry)
            || DateTimeOffset.FromUnixTimeSeconds(expiry) < _options.Time.GetUtcNow())
        {
            return (401, "ExpiredToken: the token has expired.");
        }

        return (200, "OK");
    }

    private bool IsAuthorized(AmqpConnection connection, string path) =>
        _authorized.TryGetValue(connection, out var granted) && Lock(granted, g => g.Contains(path));

    private static bool Lock(HashSet<string> set, Func<HashSet<string>, bool> read)
    {
        lock (set) { return read(set); }
    }

    /// <summary>The SDK builds audiences as <c>amqps://host:port/entity</c> even without TLS: compare paths only.</summary>
    private static string PathOf(string audience) =>
        Uri.TryCreate(audience, UriKind.Absolute, out var uri) ? uri.AbsolutePath.Trim('/') : audience.Trim('/');

    // ------------------------------------------------------------------ the topic

    private void OnTopicMessage(ReceivingAmqpLink link, AmqpMessage transfer)
    {
        var connection = link.Session.Connection;
        var connectionNumber = _connectionNumbers.TryGetValue(connection, out var box) ? box.Value : 0;
        List<AmqpMessage> messages;
        try
        {
            messages = Unbatch(transfer);
        }
        catch (Exception e) when (e is AmqpException or InvalidOperationException or FormatException or InvalidCastException)
        {
            link.DisposeMessage(transfer, Rejected(AmqpErrorCode.DecodeError, "The message could not be decoded: " + e.Message), true, false);
            return;
        }

        var ids = messages.Select(m => m.Properties?.MessageId?.ToString() ?? "").ToList();
        var fault = TakeFault(forToken: false);
        // Each transfer is recorded before it is answered, so a test that has seen the answer also sees the record.
        void Record(string what)
        {
            lock (_gate) { _transfers.Add(new BrokerTransfer(ids, what, connectionNumber)); }
        }

        switch (fault)
        {
            case null:
                Store(messages);
                Record("accepted");
                link.AcceptMessage(transfer, false);
                break;
            case BrokerFault.NeverSettle:
                lock (_gate) { _unsettled.Add(transfer); }
                Record("never-settled");
                break;
            case BrokerFault.StoreWithoutAnswer:
                Store(messages);
                lock (_gate) { _unsettled.Add(transfer); }
                Record("stored-unanswered");
                break;
            case BrokerFault.DropAfterStore:
                Store(messages);
                Record("dropped-after-store");
                connection.Abort();
                break;
            default:
                var (condition, description) = Condition(fault.Value);
                Record(condition.Value);
                link.DisposeMessage(transfer, Rejected(condition, description), true, false);
                break;
        }
    }

    private static (Microsoft.Azure.Amqp.Encoding.AmqpSymbol Condition, string Description) Condition(BrokerFault fault) => fault switch
    {
        BrokerFault.ServerBusy => ("com.microsoft:server-busy", "The server is busy (injected)."),
        BrokerFault.Timeout => ("com.microsoft:timeout", "The operation did not complete in time (injected)."),
        BrokerFault.QuotaExceeded => (AmqpErrorCode.ResourceLimitExceeded, "The maximum entity size has been reached (injected)."),
        BrokerFault.EntityNotFound => (AmqpErrorCode.NotFound, "The messaging entity could not be found (injected)."),
        BrokerFault.EntityDisabled => ("com.microsoft:entity-disabled", "The messaging entity is disabled (injected)."),
        BrokerFault.Unauthorized => (AmqpErrorCode.UnauthorizedAccess, "Unauthorized access: 'Send' claim(s) are required (injected)."),
        _ => (AmqpErrorCode.InternalError, "Internal error (injected)."),
    };

    private static Rejected Rejected(Microsoft.Azure.Amqp.Encoding.AmqpSymbol condition, string description) =>
        new() { Error = new Error { Condition = condition, Description = description } };

    /// <summary>A batch (format 0x80013700) is a list of Data sections, each a complete encoded message.</summary>
    private static List<AmqpMessage> Unbatch(AmqpMessage transfer)
    {
        if (transfer.MessageFormat != BatchFormat)
        {
            return [transfer];
        }

        var inner = new List<AmqpMessage>();
        foreach (var data in transfer.DataBody)
        {
            var bytes = (ArraySegment<byte>)data.Value;
            var message = AmqpMessage.CreateInputMessage(new BufferListStream([bytes]));
            message.Deserialize(SectionFlag.All);
            inner.Add(message);
        }

        return inner;
    }

    private void Store(List<AmqpMessage> messages)
    {
        var now = _options.Time.GetUtcNow();
        var stored = new List<BrokerMessage>();
        lock (_gate)
        {
            foreach (var m in messages)
            {
                var id = m.Properties?.MessageId?.ToString();
                if (id is not null && _seenIds.TryGetValue(id, out var seen) && now - seen < _options.DuplicateDetectionWindow)
                {
                    _duplicates++;
                    continue;
                }

                if (id is not null)
                {
                    _seenIds[id] = now;
                }

                var body = m.DataBody?.SelectMany(d => (ArraySegment<byte>)d.Value).ToArray() ?? [];
                var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
                if (m.ApplicationProperties?.Map is { } map)
                {
                    foreach (var kv in map)
                    {
                        properties[kv.Key.Key.ToString()!] = kv.Value;
                    }
                }

                var message = new BrokerMessage(++_sequence, now, Topic, id, m.Properties?.CorrelationId?.ToString(), m.Properties?.Subject,
                    m.Properties?.GroupId, m.Properties?.ContentType.Value, body, properties);
                _messages.Add(message);
                stored.Add(message);
            }
        }

        foreach (var message in stored)
        {
            foreach (var subscription in _subscriptions.Values)
            {
                subscription.Enqueue(message);
            }

            _options.OnStored?.Invoke(message);
        }
    }

    private sealed class CompletedResult(object? state) : IAsyncResult
    {
        public object? AsyncState => state;

        public WaitHandle AsyncWaitHandle => throw new NotSupportedException();

        public bool CompletedSynchronously => true;

        public bool IsCompleted => true;
    }

    // ------------------------------------------------------------------ subscriptions (receive side)

    /// <summary>
    /// A subscription that hands messages to SDK receivers (peek-lock): the delivery tag is the lock token,
    /// Accepted completes, Rejected dead-letters, Released/Modified abandons (the message is delivered again).
    /// </summary>
    private sealed class Subscription(LocalServiceBus broker, string name)
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<BrokerMessage> _available = new();
        private readonly Dictionary<Guid, (BrokerMessage Message, int Deliveries)> _locked = [];
        private readonly Dictionary<string, int> _deliveryCounts = new(StringComparer.Ordinal);
        private readonly List<SendingAmqpLink> _consumers = [];

        public string Name => name;

        public int Outstanding
        {
            get { lock (_gate) { return _available.Count + _locked.Count; } }
        }

        public void Attach(SendingAmqpLink link)
        {
            lock (_gate) { _consumers.Add(link); }
            link.RegisterCreditListener((_, _, _) => Deliver());
            link.RegisterDispositionListener(d => OnDisposition(link, d));
            link.SafeAddClosed((_, _) =>
            {
                lock (_gate) { _consumers.Remove(link); }
            });
        }

        public void Enqueue(BrokerMessage message)
        {
            lock (_gate) { _available.AddLast(message); }
            Deliver();
        }

        private void Deliver()
        {
            while (true)
            {
                SendingAmqpLink? link;
                BrokerMessage message;
                Guid token;
                int deliveries;
                lock (_gate)
                {
                    link = _consumers.FirstOrDefault(c => c.LinkCredit > 0 && c.State == AmqpObjectState.Opened);
                    if (link is null || _available.First is null)
                    {
                        return;
                    }

                    message = _available.First.Value;
                    _available.RemoveFirst();
                    token = Guid.NewGuid();
                    deliveries = _deliveryCounts.GetValueOrDefault(message.MessageId ?? "") + 1;
                    _deliveryCounts[message.MessageId ?? ""] = deliveries;
                    _locked[token] = (message, deliveries);
                }

                link.SendMessageNoWait(ToAmqp(message, deliveries - 1), new ArraySegment<byte>(token.ToByteArray()), AmqpConstants.NullBinary);
            }
        }

        private void OnDisposition(SendingAmqpLink link, Delivery delivery)
        {
            var token = new Guid(delivery.DeliveryTag.AsSpan());
            (BrokerMessage Message, int Deliveries) held;
            lock (_gate)
            {
                if (!_locked.Remove(token, out held))
                {
                    link.DisposeDelivery(delivery, true, new Rejected { Error = new Error { Condition = "com.microsoft:message-lock-lost", Description = "The lock is not held." } });
                    return;
                }

                if (delivery.State is Released or Modified)
                {
                    // Abandoned: available again, at the front so order holds.
                    _available.AddFirst(held.Message);
                }
            }

            // A dead-letter (Rejected from the client) succeeded: answer Accepted, as the service does.
            link.DisposeDelivery(delivery, true, delivery.State is Rejected ? new Accepted() : delivery.State);
            if (delivery.State is Released or Modified)
            {
                Deliver();
            }
        }

        private AmqpMessage ToAmqp(BrokerMessage m, int previousDeliveries)
        {
            var message = AmqpMessage.Create(new Data { Value = new ArraySegment<byte>(m.BodyBytes) });
            if (m.MessageId is not null) message.Properties.MessageId = m.MessageId;
            if (m.CorrelationId is not null) message.Properties.CorrelationId = m.CorrelationId;
            message.Properties.Subject = m.Subject;
            message.Properties.GroupId = m.SessionId;
            if (m.ContentType is not null) message.Properties.ContentType = m.ContentType;
            foreach (var (key, value) in m.ApplicationProperties)
            {
                message.ApplicationProperties.Map[key] = value;
            }

            message.Header.DeliveryCount = (uint)previousDeliveries;
            message.MessageAnnotations.Map["x-opt-sequence-number"] = m.SequenceNumber;
            message.MessageAnnotations.Map["x-opt-enqueued-time"] = m.EnqueuedAt.UtcDateTime;
            // Far enough ahead that the SDK's lock renewal (which needs $management) never starts in a test.
            message.MessageAnnotations.Map["x-opt-locked-until"] = broker._options.Time.GetUtcNow().AddMinutes(30).UtcDateTime;
            return message;
        }
    }
}
